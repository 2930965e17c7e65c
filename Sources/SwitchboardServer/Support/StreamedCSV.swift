import Foundation
import Hummingbird
import NIOCore

/// A CSV export written page by page as it is read (RFC 4180: CRLF lines, quoted cells), so a
/// million rows never sit in memory at once. Cells a spreadsheet would run as a formula are
/// neutralised (`CSVCell`).
enum StreamedCSV {
    /// - Parameters:
    ///   - columns: the header row.
    ///   - filename: offered to the browser (`Content-Disposition`).
    ///   - page: reads the rows after a cursor (nil first), and the cursor of the last one;
    ///     no rows when there are no more.
    static func response<Cursor: Sendable>(columns: [String], filename: String,
                                           page: @escaping @Sendable (_ after: Cursor?) async throws -> (rows: [[String]], last: Cursor?)) -> Response {
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: CSVCell.line(columns)))
            var after: Cursor?
            while true {
                let (rows, last) = try await page(after)
                guard !rows.isEmpty, let last else { break }
                var chunk = ""
                chunk.reserveCapacity(rows.count * 96)
                for row in rows { chunk += CSVCell.line(row) }
                try await writer.write(ByteBuffer(string: chunk))
                after = last
            }
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename.filter { $0.isLetter || $0.isNumber || "-_.".contains($0) })\""
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `format=csv`, or a client that asks for `text/csv` (and no `format`).
    static func wanted(_ request: Request) -> Bool {
        if let format = request.uri.queryParameters.get("format") { return format == "csv" }
        return request.headers[.accept]?.lowercased().contains("text/csv") == true
    }
}

/// One CSV cell. A cell a spreadsheet would evaluate — starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return — gets a leading `'` and quotes, as OWASP advises for CSV injection;
/// a plain number (`+15551234567`, `-3.5`) is left as it is, since it calls nothing.
enum CSVCell {
    static func escape(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), !isPlainNumber(text) {
            text = "'" + text
        }
        let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" } || text != value
        return needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    static func line(_ cells: [String]) -> String { cells.map(escape).joined(separator: ",") + "\r\n" }

    private static func isPlainNumber(_ text: String) -> Bool {
        let body = text.dropFirst(text.first == "+" || text.first == "-" ? 1 : 0)
        return !body.isEmpty && body.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") } && body.contains { $0.isNumber }
    }
}
