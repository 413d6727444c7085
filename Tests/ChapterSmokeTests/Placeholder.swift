import Testing

@Suite struct PlaceholderChapterSmokeTests { @Test func builds() { #expect(1 + 1 == 2) } }
