// CharTokenizerTests.swift — ids by hand, round trips, unknown characters.
import Foundation
import Testing
@testable import Tokenizers

@Suite struct CharTokenizerTests {
    @Test func idsFollowTheAlphabet() {
        let t = CharTokenizer(alphabet: Array("abc?"))
        #expect(t.encode("cab") == [2, 0, 1])
        #expect(t.vocabularySize == 5)
        #expect(t.endOfText == 4)
        #expect(t.decode([2, 0, 1, 4]) == "cab")
        #expect(t.encode("az") == [0, 3])        // z → "?"
    }

    @Test func checkedEncodingNamesTheCharacter() {
        let t = CharTokenizer(alphabet: Array("ab"))
        #expect(throws: UnknownCharacterError(character: "z", offset: 2)) { try t.encodeChecked("abz") }
    }

    @Test func fittingAndCodableRoundTrip() throws {
        let t = CharTokenizer(fitting: "hello world")
        #expect(t.alphabet == Array(" dehlorw"))
        #expect(t.decode(t.encode("hello world")) == "hello world")
        let copy = try JSONDecoder().decode(CharTokenizer.self, from: JSONEncoder().encode(t))
        #expect(copy == t)
    }
}
