import Foundation
import Testing
@testable import SwitchboardCore

@Suite struct LeadStreamParserTests {
    /// Feeds `text` in pieces of `size` bytes, so every element straddles chunk boundaries.
    func frame(_ text: String, chunk size: Int) throws -> [String] {
        var framer = JSONArrayFramer()
        let bytes = Array(text.utf8)
        var out: [String] = []
        for start in stride(from: 0, to: bytes.count, by: size) {
            out += try framer.feed(bytes[start..<min(start + size, bytes.count)]).map { String(decoding: $0, as: UTF8.self) }
        }
        out += try framer.finish()?.elements.map { String(decoding: $0, as: UTF8.self) } ?? []
        return out
    }

    /// Blocks of several elements, one array for all their bytes: cut once enough are
    /// complete, the rest at the end; a bad element is named by its place in the array.
    @Test func cutsBlocksOfElementsAndNamesABadOneByItsPlace() throws {
        var framer = JSONArrayFramer()
        let bytes = Array(#"[1, "two", {"n":3}, [4], nope, 6]"#.utf8)
        var blocks: [JSONElementBlock] = []
        for start in stride(from: 0, to: bytes.count, by: 5) {
            if let block = try framer.cut(bytes[start..<min(start + 5, bytes.count)], elements: 3) { blocks.append(block) }
        }
        if let rest = try framer.finish() { blocks.append(rest) }
        #expect(blocks.map(\.count) == [3, 3])
        #expect(try blocks[0].values(first: 0) == [1, "two", ["n": 3]])
        #expect(throws: LeadStreamError.malformedJSON(element: 4)) { try blocks[1].values(first: 3) }
    }

    @Test(arguments: [1, 2, 3, 7, 1000])
    func framesJSONArraysAcrossChunks(size: Int) throws {
        let text = #" [ {"phone_number":"+15550000001","note":"a ] , { tricky \" one"}, {"phone_number":"+15550000002","tags":[1,[2]]}, "+15550000003" ] "#
        let elements = try frame(text, chunk: size)
        #expect(elements == [
            #"{"phone_number":"+15550000001","note":"a ] , { tricky \" one"}"#,
            #"{"phone_number":"+15550000002","tags":[1,[2]]}"#,
            #""+15550000003""#,
        ])
    }

    @Test func rejectsWhatIsNotAnArray() {
        #expect(throws: LeadStreamError.notAJSONArray) { try frame(#"{"leads":[]}"#, chunk: 4) }
        #expect(throws: LeadStreamError.unterminatedJSON) { try frame(#"[{"a":1}"#, chunk: 4) }
        #expect(throws: LeadStreamError.notAJSONArray) { try frame("", chunk: 4) }
    }

    @Test(arguments: [1, 5, 64])
    func readsCSVAcrossChunks(size: Int) throws {
        let text = "first_name,Phone_Number,notes\r\nAna,+15550000001,\"says \"\"hi\"\",\nthen bye\"\nBo,(555) 000-0002,\n"
        var parser = CSVLeadParser()
        let bytes = Array(text.utf8)
        var leads: [LeadInput] = []
        for start in stride(from: 0, to: bytes.count, by: size) {
            leads += try parser.feed(bytes[start..<min(start + size, bytes.count)])
        }
        leads += try parser.finish()
        #expect(leads == [
            LeadInput(phone: "+15550000001", fields: ["first_name": "Ana", "notes": "says \"hi\",\nthen bye"]),
            LeadInput(phone: "(555) 000-0002", fields: ["first_name": "Bo"]),
        ])
    }

    /// Headers become the field names templates use; a mapping picks the phone column by any
    /// name and keeps only the fields it lists.
    @Test func csvHeadersAreFieldNamesAndAMappingChoosesColumns() throws {
        #expect(CSVLeadParser.fieldName("  First  Name ") == "first_name")
        #expect(CSVLeadParser.fieldName("e-mail") == "e_mail")
        let csv = Array("Cell,First Name,Notes\n+15551234567,Ann,private\n".utf8)
        var unmapped = CSVLeadParser()
        #expect(throws: LeadStreamError.missingPhoneColumn) { _ = try unmapped.feed(csv) }
        var mapped = CSVLeadParser(mapping: CSVColumnMapping(phone: "Cell", fields: ["First Name"]))
        let leads = try mapped.feed(csv) + mapped.finish()
        #expect(leads.count == 1)
        #expect(leads.first?.phone == "+15551234567")
        #expect(leads.first?.fields == ["first_name": "Ann"])
    }

    @Test func csvNeedsAPhoneColumn() {
        var parser = CSVLeadParser()
        #expect(throws: LeadStreamError.missingPhoneColumn) { _ = try parser.feed(Array("name,email\nAna,a@x\n".utf8)) }
    }

    @Test func leadInputTakesThePhoneFromAnyKnownKey() {
        #expect(LeadInput(object: ["phone": "+15550000001", "first_name": "Ana"]) == LeadInput(phone: "+15550000001", fields: ["first_name": "Ana"]))
        #expect(LeadInput(json: .number(15550000001)).phone == "15550000001")
        let invalid = LeadInput(phone: nil).validated(index: 4)
        #expect(invalid == .failure(InvalidLead(index: 4, phoneNumber: nil, reason: "missing phone number")))
    }
}

@Suite struct JSONTextTests {
    @Test func writesWhatJSONDecoderReadsBack() throws {
        let value: JSONValue = ["name": "Ana \"A\" \\ \n\u{01} é 🙂", "n": 42, "x": 1.5, "ok": true, "none": nil, "list": [1, "two", [:]]]
        let text = value.jsonText
        #expect(text == #"{"list":[1,"two",{}],"n":42,"name":"Ana \"A\" \\ \n\u0001 é 🙂","none":null,"ok":true,"x":1.5}"#)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == value)
    }

    @Test func anUnterminatedQuoteIsAnErrorNotAMergedRow() throws {
        var parser = CSVLeadParser()
        let text = "phone_number,note\n+15550000001,\"open\n+15550000002,fine\n+15550000003,fine\n"
        let early = try parser.feed(Array(text.utf8))
        #expect(early.isEmpty)  // nothing after the open quote reads as a record
        #expect(throws: LeadStreamError.self) { _ = try parser.finish() }
    }
}

@Suite struct CSVRecordsTests {
    func read(_ text: String) -> [[String]] { CSVRecords.read(Array(text.utf8)) }

    @Test func splitsFieldsAndRecordsByRFC4180() {
        #expect(read("") == [])
        #expect(read("a,b\nc,d") == [["a", "b"], ["c", "d"]])
        #expect(read("a,b\r\nc,d\r\n") == [["a", "b"], ["c", "d"]])
        #expect(read("a\rb\n\nc") == [["a"], ["b"], [""], ["c"]])
        #expect(read("a,,b,\n") == [["a", "", "b", ""]])
    }

    @Test func quotedFieldsHoldDelimitersBreaksAndQuotes() {
        #expect(read("\"a,b\",\"line\r\nbreak\",\"say \"\"hi\"\"\"\n") == [["a,b", "line\r\nbreak", "say \"hi\""]])
        #expect(read("\"\",x\n") == [["", "x"]])
        // Unterminated: the rest is the field (the streaming parser rejects this before it gets here).
        #expect(read("\"open,end") == [["open,end"]])
        // A quote that neither doubles nor closes stays text.
        #expect(read("\"a\"b\",c\n") == [["a\"b", "c"]])
        // Quotes inside an unquoted field are text.
        #expect(read("5\"10,x\n") == [["5\"10", "x"]])
    }

    @Test func trimsSpacesAroundFieldsButNotInsideQuotes() {
        #expect(read("  a b ,\tc\t\n") == [["a b", "c"]])
        #expect(read(" \" a \" , \"b\"\t\n") == [[" a ", "b"]])
        // No-break and ideographic spaces are spaces too; other characters are kept whole.
        #expect(read("\u{A0}+1 555\u{3000},é\u{2009}\n") == [["+1 555", "é"]])
        #expect(read("\u{200B}x\n") == [["\u{200B}x"]])
    }

    @Test func repairsInvalidUTF8FieldByField() {
        #expect(CSVRecords.read([0x61, 0xFF, 0x2C, 0x62]) == [["a\u{FFFD}", "b"]])
    }
}
