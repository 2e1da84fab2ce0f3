// pickle's error types (ouro/pickle.h): UnpicklingError formats CPython's message with
// where in the input it happened; LoadError holds the same facts in fixed storage (try_loads).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

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

void LoadError::set(std::string_view python_type, std::string_view message, std::int64_t offset,
                    std::string_view opcode) noexcept {
  const auto copy = [](std::string_view from, char* to, std::size_t capacity) {
    const std::size_t n = std::min(from.size(), capacity);
    if (n != 0) std::memcpy(to, from.data(), n);  // an empty view may hold nullptr
    return n;
  };
  type_size_ = static_cast<std::uint8_t>(copy(python_type, type_, sizeof type_));
  opcode_size_ = static_cast<std::uint8_t>(copy(opcode, opcode_, sizeof opcode_));
  message_size_ = static_cast<std::uint16_t>(copy(message, message_, kMessageCapacity));
  message_cut_ = message.size() > kMessageCapacity;
  offset_ = offset;
}

}  // namespace ouro::pickle
