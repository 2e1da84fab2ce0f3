// Reads a PyTorch state dict (a torch.save zip) without Python or libtorch: prints each
// tensor's name, shape and dtype, then sums one tensor's values. The tensors' bytes are
// views of the memory-mapped file; nothing in the checkpoint is executed.
//
//     example_read_state_dict model.pt [tensor-name]
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <numeric>

#include "ouro/pickle/torch.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: example_read_state_dict FILE.pt [TENSOR]\n", stderr);
    return 2;
  }
  try {
    const auto checkpoint = ouro::pickle::torch::Checkpoint::open(argv[1]);
    fmt::print("{} ({}-endian, {} tensors)\n", argv[1],
               checkpoint.byte_order() == std::endian::big ? "big" : "little",
               checkpoint.tensors().size());
    for (const auto& t : checkpoint.tensors()) {
      fmt::print("  {:<24} {:<10} ({})\n", t.name, t.dtype, fmt::join(t.shape, ", "));
    }
    if (checkpoint.tensors().empty()) return 0;
    // The tensor named on the command line, or the first one.
    const auto* tensor = argc > 2 ? checkpoint.find(argv[2]) : &checkpoint.tensors().front();
    if (tensor == nullptr) {
      fmt::print(stderr, "no tensor called '{}'\n", argv[2]);
      return 1;
    }
    const std::vector<double> values = tensor->values();
    fmt::print("sum of {} ({} values, {} bytes in the file): {:.6f}\n", tensor->name, values.size(),
               tensor->bytes().size(), std::accumulate(values.begin(), values.end(), 0.0));
  } catch (const ouro::pickle::PickleError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
