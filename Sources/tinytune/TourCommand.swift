// TourCommand.swift — `tinytune` with no command: the guided tour through the chapters that exist.
//
// Today: autodiff by hand (1), tensors and kernels (2), pretraining the base model (3, cached after
// the first run), where the memory goes (4). Later chapters join as their modules land.
import Foundation
import Chapter01Autograd
import Chapter02Tensors
import Chapter03Pretraining
import Chapter04Memory

enum TourCommand {
    static let command = Command(
        name: "tour", summary: "the guided tour (the default)",
        help: """
        Usage: tinytune [tour] [--quick]

        Runs the chapters in order: autodiff by hand, tensors and kernels, pretraining the base model
        (cached in $TINYTUNE_CACHE or ./.tinytune-cache; a few minutes the first time), and where the
        memory goes. Chapter outputs (e.g. the loss-curve SVG) are written under ./runs/.

          --quick   use each chapter's tiny configuration (seconds; nothing is cached)
        """,
        run: { arguments in
            let options = try Options(arguments, valued: [], switches: ["quick"])
            let quick = options.flag("quick")
            let rule = String(repeating: "─", count: 72)
            Chapter01Autograd.run(quick ? .tiny : .standard)
            print(rule)
            Chapter02Tensors.run(quick ? .tiny : .standard)
            print(rule)
            try Chapter03Pretraining.run(quick ? .tiny : .standard)
            print(rule)
            Chapter04Memory.run(quick ? .tiny : .standard)
        })
}
