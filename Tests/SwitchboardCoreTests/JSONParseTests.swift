import Foundation
import Testing
@testable import SwitchboardCore

/// `JSONValue(parsing:)` reads what Foundation's `JSONDecoder` reads, into the same values, and
/// refuses what it refuses.
@Suite struct JSONParseTests {
    private func foundation(_ text: [UInt8]) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text)) }

    @Test func agreesWithFoundationOnHandPickedTexts() {
        let texts: [String] = [
            #"{"phone_number":"+15550000001","first_name":"Ada","age":36,"vip":true,"notes":null}"#,
            #" [1, -0, 0.5, -12.25e3, 1E-7, 1e+21, 123456789012345678901234567890] "#,
            #""plain""#, "true", "false", "null", "0", "-1.5",
            #"{"esc":"q\"\\\/\b\f\n\r\t","u":"\u00e9\u4e2d\ud83d\ude00","raw":"é😀"}"#,
            #"{"nested":{"a":[{"b":[[]]},{}]},"empty":"","dup":1,"dup":2}"#,
            // A comma before a closing bracket: JSONDecoder allows it, so we do.
            "[1,]", #"{"a":1,}"#,
            // Refused by both:
            "[,]", "[1,,]", #"{,}"#, "", " ", "{", "01", "+1", ".5", "1.", "1e", "-", "NaN", "Infinity", "1e999",
            "tru", "nul", "[1 2]", #"{"a" 1}"#, #"{a:1}"#, "'x'", #""unterminated"#, "\"tab\there\"",
            #""\x""#, #""\u12""#, #""\ud83d""#, #""\ude00""#, #""\ud83dx""#, "[1] 2", "{}{}", "// c\n1",
        ]
        for text in texts {
            let bytes = Array(text.utf8)
            #expect((try? JSONValue(parsing: bytes)) == foundation(bytes), "\(text)")
        }
        let invalidUTF8: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect((try? JSONValue(parsing: invalidUTF8)) == nil)
        #expect(foundation(invalidUTF8) == nil)
        let deep = Array((String(repeating: "[", count: 600) + String(repeating: "]", count: 600)).utf8)
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: deep) }
    }

    @Test func readsBackWhatFoundationWrites() throws {
        var random = SystemRandomNumberGenerator()
        func tree(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &random) {
            case 0: return .string(String((0..<Int.random(in: 0..<12, using: &random)).map { _ in
                ["a", "é", "\"", "\\", "\n", "\u{1}", "😀", "/", " ", "中"].randomElement(using: &random)! }))
            case 1: return .number(Double.random(in: -1e12...1e12, using: &random).rounded(.down) / [1, 10, 1_000].randomElement(using: &random)!)
            case 2: return .bool(Bool.random(using: &random))
            case 3: return .null
            case 4: return .array((0..<Int.random(in: 0..<4, using: &random)).map { _ in tree(depth + 1) })
            default: return .object(Dictionary((0..<Int.random(in: 0..<4, using: &random)).map { ("k\($0)", tree(depth + 1)) }) { $1 })
            }
        }
        for _ in 0..<500 {
            let value = tree(0)
            let text = Array(try JSONEncoder().encode(value))
            #expect(try JSONValue(parsing: text) == foundation(text), "\(String(decoding: text, as: UTF8.self))")
        }
    }
}
