// GeneralProbe.swift — a fixed yardstick for forgetting on a real model: plain English text and general
// questions, measured before and after fine-tuning.
//
// Teaches: how to see what fine-tuning costs. A fine-tune is judged on its task, but the question a user
// cares about next is "what did it break?". Two cheap probes answer it:
//   1. perplexity on general English the task never shows (a rise means the model's language got worse);
//   2. greedy answers to everyday questions, each scored by whether the answer contains the expected word
//      (a drop means the model stopped answering as an assistant — e.g. it answers everything with JSON).
// The passages were written for this project (no copyrighted text); the questions are common knowledge.
// Leaves out: standard benchmarks (MMLU, HellaSwag): they need downloads and hours of CPU.
import Foundation

/// Passages and questions for measuring forgetting (caseless namespace).
public enum GeneralProbe {
    /// Short passages of ordinary English on unrelated topics (~45–65 words each).
    public static let passages: [String] = [
        "The kettle clicked off and the kitchen filled with steam. Maria poured the water over the tea leaves, "
            + "waited three minutes, and carried two cups to the table by the window. Outside, the first snow of "
            + "the winter was settling on the parked cars, and a child across the street was trying to catch the "
            + "flakes on her tongue.",
        "Plants make their own food through photosynthesis. Using the energy of sunlight, they combine carbon "
            + "dioxide from the air with water drawn up through their roots, producing sugar and releasing oxygen. "
            + "This is why forests and ocean algae matter so much: together they supply much of the oxygen that "
            + "animals, including people, need to breathe.",
        "To change a flat tyre, first park on level ground and switch on the hazard lights. Loosen the wheel "
            + "nuts slightly before lifting the car with the jack. Then remove the nuts completely, swap the wheel "
            + "for the spare, and tighten the nuts by hand. Lower the car and finish tightening them in a star "
            + "pattern so the wheel sits evenly.",
        "The library in our town opened in 1912 with fewer than a thousand books. Today it lends films, music "
            + "and even tools, and its reading room is busy every afternoon with students. The librarians say the "
            + "most borrowed item last year was not a novel but a guide to growing vegetables on a small balcony.",
        "Water boils at one hundred degrees Celsius at sea level, but at lower temperatures on a mountain, "
            + "because the air pressure is lower. Climbers cooking pasta at high altitude often find it takes much "
            + "longer to soften. Pressure cookers work the other way: by raising the pressure, they let water get "
            + "hotter before it boils, so food cooks faster.",
        "When you write a letter of complaint, be clear and polite. Explain what happened, when it happened and "
            + "what you would like the company to do about it. Keep copies of receipts and earlier messages. A "
            + "calm, specific letter is far more likely to get a useful answer than an angry one.",
        "The train left the station a few minutes late. Through the window, fields gave way to low hills, then "
            + "to a wide river where fishermen stood in the shallows. An old man in the next seat was reading a "
            + "newspaper folded into quarters, and every so often he laughed quietly at something on the page.",
        "Regular exercise strengthens the heart and lungs, helps control weight and improves sleep. Doctors "
            + "often recommend at least thirty minutes of moderate activity, such as brisk walking or cycling, on "
            + "most days of the week. Even short walks after meals can make a noticeable difference over time.",
        "The Moon has no light of its own. It shines because it reflects sunlight, and the shape we see changes "
            + "as it orbits the Earth, from a thin crescent to a full disc and back again. The whole cycle of "
            + "phases takes about twenty-nine and a half days.",
        "Before the meeting, Tom printed the agenda and set out chairs in a circle. He wanted everyone to speak, "
            + "not just the usual few. When the discussion stalled, he asked each person to suggest one small "
            + "change they would make, and by the end the group had a list of ideas to try the following month.",
    ]

    /// One everyday question and the words a right answer may contain (compared case-insensitively).
    public struct Question: Sendable, Equatable {
        /// The question as the user asks it.
        public var text: String
        /// Accepted spellings of the answer ("seven" or "7"); a correct answer contains at least one.
        public var accepted: [String]
        /// A question with its accepted answer words.
        public init(text: String, expected: String...) { self.text = text; accepted = expected }
        /// Whether `answer` contains one of the accepted words (case-insensitive).
        public func isAnswered(by answer: String) -> Bool {
            accepted.contains { answer.lowercased().contains($0.lowercased()) }
        }
    }

    /// Twenty questions with short answers a small instruct model usually knows.
    public static let questions: [Question] = [
        Question(text: "What is the capital of France?", expected: "Paris"),
        Question(text: "What is the capital of Japan?", expected: "Tokyo"),
        Question(text: "What is the capital of Italy?", expected: "Rome"),
        Question(text: "How many days are there in a week?", expected: "seven", "7"),
        Question(text: "What colour is the sky on a clear day?", expected: "blue"),
        Question(text: "What is the largest planet in our solar system?", expected: "Jupiter"),
        Question(text: "What gas do plants release during photosynthesis?", expected: "oxygen"),
        Question(text: "What is the chemical symbol for water?", expected: "H2O", "H₂O"),
        Question(text: "Which animal is known as the king of the jungle?", expected: "lion"),
        Question(text: "What is the freezing point of water in degrees Celsius?", expected: "0 degrees", "zero", "0°", "0 °"),
        Question(text: "Who wrote Romeo and Juliet?", expected: "Shakespeare"),
        Question(text: "What is the opposite of hot?", expected: "cold"),
        Question(text: "How many legs does a spider have?", expected: "eight", "8"),
        Question(text: "What is the largest ocean on Earth?", expected: "Pacific"),
        Question(text: "What do bees make?", expected: "honey"),
        Question(text: "Which planet is known as the Red Planet?", expected: "Mars"),
        Question(text: "What is the primary language spoken in Brazil?", expected: "Portuguese"),
        Question(text: "What is the tallest mountain in the world?", expected: "Everest"),
        Question(text: "What is the currency of the United Kingdom?", expected: "pound", "sterling"),
        Question(text: "What is the boiling point of water in degrees Celsius?", expected: "100"),
    ]
}
