// Retrieval.swift — BM25: the "R" of retrieval-augmented generation, in forty lines.
//
// Teaches: retrieval needs no training. Score every document against the question by term overlap,
// weighting rare terms more (inverse document frequency) and saturating repeated terms (k₁), with a
// length normalisation (b):
//   score(d, q) = Σ_{t ∈ q} idf(t) · f(t,d)·(k₁+1) / (f(t,d) + k₁·(1 − b + b·|d|/avgdl))
//   idf(t) = ln(1 + (N − n(t) + 0.5)/(n(t) + 0.5))
// Put the best document in the prompt, and the model can answer from it — even about facts that
// changed after training.
// Leaves out: embeddings, chunking, re-ranking.
import Foundation

/// A BM25 index over short documents.
public struct BM25Index: Sendable {
    public let documents: [String]
    let terms: [[String: Int]]
    let documentFrequency: [String: Int]
    let averageLength: Double
    public let k1: Double, b: Double

    /// Indexes `documents` (k₁ = 1.5, b = 0.75 by default).
    public init(documents: [String], k1: Double = 1.5, b: Double = 0.75) {
        self.documents = documents
        self.k1 = k1
        self.b = b
        terms = documents.map { document in
            var counts: [String: Int] = [:]
            for term in BM25Index.tokenize(document) { counts[term, default: 0] += 1 }
            return counts
        }
        var frequency: [String: Int] = [:]
        for counts in terms { for term in counts.keys { frequency[term, default: 0] += 1 } }
        documentFrequency = frequency
        averageLength = Double(terms.map { $0.values.reduce(0, +) }.reduce(0, +)) / Double(max(documents.count, 1))
    }

    /// Lowercased alphanumeric words, with a crude stemmer (a final "s" dropped from longer words, so
    /// "lives" matches "live").
    public static func tokenize(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map { word in
            word.count > 3 && word.hasSuffix("s") ? String(word.dropLast()) : String(word)
        }
    }

    /// The BM25 score of document `index` for `query`.
    public func score(_ query: String, document index: Int) -> Double {
        let n = Double(documents.count)
        let length = Double(terms[index].values.reduce(0, +))
        return Set(BM25Index.tokenize(query)).reduce(0) { total, term in
            guard let f = terms[index][term].map(Double.init) else { return total }
            let df = Double(documentFrequency[term] ?? 0)
            let idf = Foundation.log(1 + (n - df + 0.5) / (df + 0.5))
            return total + idf * f * (k1 + 1) / (f + k1 * (1 - b + b * length / averageLength))
        }
    }

    /// The `count` best documents for `query`, best first (ties: earlier document first).
    public func search(_ query: String, count: Int = 1) -> [String] {
        let scored = documents.indices.map { ($0, score(query, document: $0)) }
        return scored.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(count).map { documents[$0.0] }
    }
}
