import Foundation
import SwitchboardCore

/// A campaign's leads by where they stand, as an SVG bar chart made on the server: one bar per
/// outcome (and per state still open), labelled with its count. The markup is ours and every
/// label is escaped, so pages may insert it as is.
enum OutcomeChart {
    struct Bar: Equatable {
        var label: String
        var count: Int
        var color: String
    }

    static func bars(_ progress: CampaignProgress) -> [Bar] {
        var bars: [Bar] = []
        func add(_ label: String, _ count: Int, _ color: String) { if count > 0 { bars.append(Bar(label: label, count: count, color: color)) } }
        add("completed", progress.completed, "#2e7d32")
        for (outcome, count) in progress.outcomes.sorted(by: { $0.value > $1.value }) where outcome != Outcome.completed.rawValue {
            add(outcome.replacingOccurrences(of: "_", with: " "), count, color(outcome))
        }
        add("in progress", progress.inProgress, "#1565c0")
        add("retry scheduled", progress.retryScheduled, "#6a1b9a")
        add("pending", progress.pending, "#9e9e9e")
        add("not called", progress.notCalled, "#795548")
        add("suppressed", progress.suppressed, "#455a64")
        return bars
    }

    static func svg(_ progress: CampaignProgress) -> String {
        let bars = bars(progress)
        let rowHeight = 26, labelWidth = 130, barWidth = 360
        let height = max(bars.count, 1) * rowHeight + 8
        let largest = max(bars.map(\.count).max() ?? 0, 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" width=\"\(labelWidth + barWidth + 80)\" height=\"\(height)\""
            + " aria-label=\"leads by outcome\">"
        if bars.isEmpty {
            svg += "<text x=\"0\" y=\"18\" fill=\"#555\">no leads yet</text>"
        }
        for (index, bar) in bars.enumerated() {
            let y = index * rowHeight + 4
            let width = max(2, bar.count * barWidth / largest)
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 15)\" text-anchor=\"end\" fill=\"#222\">\(bar.label.xmlEscaped)</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(width)\" height=\"\(rowHeight - 8)\" fill=\"\(bar.color)\"><title>\(bar.label.xmlEscaped): \(bar.count)</title></rect>"
            svg += "<text x=\"\(labelWidth + width + 6)\" y=\"\(y + 15)\" fill=\"#222\" class=\"count\">\(bar.count)</text>"
        }
        return svg + "</svg>"
    }

    private static func color(_ outcome: String) -> String {
        switch Outcome(rawValue: outcome) {
        case .noAnswer: "#f9a825"
        case .busy: "#ef6c00"
        case .voicemail: "#00838f"
        case .transferred: "#558b2f"
        case .callDeclined: "#ad1457"
        default: "#c62828"
        }
    }
}
