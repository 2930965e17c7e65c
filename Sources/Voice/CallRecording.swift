import Foundation
import SwitchboardCore

/// Writes a call's audio as it happens: a stereo 8 kHz WAV, the callee on the left and the
/// agent on the right, one 20 ms frame of each per tick. Buffered a second at a time; the
/// header's sizes are written when the call ends, so a crash leaves a file whose data a
/// reader can still take to its end (`WAV.parse` does).
struct CallRecording {
    let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private(set) var frames = 0

    init(path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(WAV.header(sampleRate: Telephony.sampleRate, channels: 2, sampleCount: 0))),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw SpeechServiceError("cannot write the recording at \(path)")
        }
        try handle.seekToEnd()
        self.path = path
        self.handle = handle
        buffer.reserveCapacity(50 * Telephony.samplesPerFrame * 4)
    }

    mutating func append(caller: [Int16], agent: [Int16]) {
        for index in 0..<Telephony.samplesPerFrame {
            let left = UInt16(bitPattern: index < caller.count ? caller[index] : 0)
            let right = UInt16(bitPattern: index < agent.count ? agent[index] : 0)
            buffer += [UInt8(truncatingIfNeeded: left), UInt8(truncatingIfNeeded: left >> 8),
                       UInt8(truncatingIfNeeded: right), UInt8(truncatingIfNeeded: right >> 8)]
        }
        frames += 1
        if frames % 50 == 0 { flush() }
    }

    var seconds: Double { Double(frames * Telephony.frameMilliseconds) / 1000 }

    private mutating func flush() {
        guard !buffer.isEmpty else { return }
        try? handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() {
        flush()
        try? handle.seek(toOffset: 0)
        try? handle.write(contentsOf: WAV.header(sampleRate: Telephony.sampleRate, channels: 2, sampleCount: frames * Telephony.samplesPerFrame * 2))
        try? handle.close()
    }
}
