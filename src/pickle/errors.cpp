// pickle's exception types (ouro/pickle.h): UnpicklingError formats CPython's message with
// where in the input it happened.
#include <fmt/format.h>

#include "ouro/pickle/pickle.h"

namespace ouro::pickle {
namespace {

std::string format_unpickling_error(const std::string& python_type, const std::string& message,
                                    std::int64_t offset, const std::string& opcode) {
  std::string text = python_type + ": " + message;
  if (offset >= 0 && !opcode.empty()) {
    text += fmt::format(" (at offset {}, opcode {})", offset, opcode);
  } else if (offset >= 0) {
    text += fmt::format(" (at offset {})", offset);
  }
  return text;
}

}  // namespace

UnpicklingError::UnpicklingError(std::string python_type, std::string message, std::int64_t offset,
                                 std::string opcode)
    : PickleError(format_unpickling_error(python_type, message, offset, opcode)),
      python_type_(std::move(python_type)),
      message_(std::move(message)),
      offset_(offset),
      opcode_(std::move(opcode)) {}

}  // namespace ouro::pickle
