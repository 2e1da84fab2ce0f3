// Reading a pickle from a std::streambuf in bounded pieces: shared by the unpickler's
// load(istream) and dis of a stream, which both keep only the current instruction (or
// frame) in a buffer and top it up as the opcode in hand needs. Host builds only (no
// streams on bare metal, docs/embedded.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <ios>
#include <istream>
#include <streambuf>

namespace ouro::pickle::detail {

/// Reads from `in` until `buffer` holds `end` bytes, `piece` bytes at a time at most (so that
/// a huge announced length costs memory only as its bytes arrive). Returns false, with
/// eofbit set on `owner`, when the stream ends first.
template <class Buffer>
bool read_into(Buffer& buffer, std::size_t end, std::streambuf& in, std::istream& owner,
               std::size_t piece) {
  while (buffer.size() < end) {
    const std::size_t want = std::min(end - buffer.size(), piece);
    const std::size_t old_size = buffer.size();
    buffer.resize(old_size + want);
    const auto got = static_cast<std::size_t>(
        in.sgetn(buffer.data() + old_size, static_cast<std::streamsize>(want)));
    buffer.resize(old_size + got);
    if (got < want) {
      owner.setstate(std::ios::eofbit);
      return false;
    }
  }
  return true;
}

}  // namespace ouro::pickle::detail
