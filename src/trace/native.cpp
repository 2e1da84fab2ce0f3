// Native frames: capture with backtrace(), symbolize with libdw (see native.h).
//
// A return address is the instruction after the call, so it is looked up one byte back (in
// the call). Where the call was inlined into the function that owns the address (make_in<T>
// inlined into the user's function, say), the line shown is the one in that function, the
// call site of its outermost inlined call, not the line inside the inlined header.
#include "native.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <execinfo.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace ouro::trace::native {

int capture(void** addresses, int max) noexcept { return ::backtrace(addresses, max); }

struct Symbolizer::Session {
  Dwfl* dwfl = nullptr;

  Session() {
    static const Dwfl_Callbacks callbacks = {
        dwfl_linux_proc_find_elf,      // the ELF files behind /proc/self/maps
        dwfl_standard_find_debuginfo,  // their DWARF (in the file, or a separate debug file)
        nullptr, nullptr};
    dwfl = dwfl_begin(&callbacks);
    if (dwfl == nullptr) return;
    if (dwfl_linux_proc_report(dwfl, getpid()) != 0 ||
        dwfl_report_end(dwfl, nullptr, nullptr) != 0) {
      dwfl_end(dwfl);
      dwfl = nullptr;
    }
  }
  ~Session() {
    if (dwfl != nullptr) dwfl_end(dwfl);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

namespace {

std::string demangle(const char* name) {
  int status = 0;
  char* readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && readable != nullptr ? readable : name;
  std::free(readable);
  return out;
}

/// ouro's own functions: those whose qualified name is in namespace ouro (and the
/// sanitizer runtime's interceptors of the capture). A demangled name
/// may start with a return type (`ouro::Ref<T> user_function()`): the name is the last word
/// before the parameter list, outside template arguments.
bool is_library_function(std::string_view function) {
  // A sanitizer's interceptor of backtrace() sits between ouro's capture and its caller
  // (ASan builds): it is part of the capture, not the user's code.
  if (function.starts_with("__interceptor_") || function.starts_with("__sanitizer_") ||
      function.starts_with("__asan_")) {
    return true;
  }
  int depth = 0;
  std::size_t name_start = 0;
  for (std::size_t i = 0; i < function.size(); ++i) {
    const char c = function[i];
    if (c == '<') ++depth;
    if (c == '>' && depth > 0) --depth;
    if (depth == 0 && c == ' ') name_start = i + 1;
    if (depth == 0 && c == '(' && i > name_start) break;
  }
  return function.substr(name_start).starts_with("ouro::");
}

/// The outermost call inlined at `pc` into the function that owns it, found by walking down
/// the unit's tree: function, then lexical blocks, then the first inlined call containing
/// `pc`. (dwarf_getscopes follows an inlined call's abstract definition outwards, not the
/// function it was inlined into, so it cannot give this.)
bool find_outer_inlined_call(Dwarf_Die* parent, Dwarf_Addr pc, bool in_function, Dwarf_Die* found) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return false;
  do {
    switch (dwarf_tag(&child)) {
      case DW_TAG_namespace:
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        if (!in_function && find_outer_inlined_call(&child, pc, false, found)) return true;
        break;
      case DW_TAG_subprogram:
        if (!in_function && dwarf_haspc(&child, pc) == 1) {
          return find_outer_inlined_call(&child, pc, true, found);
        }
        break;
      case DW_TAG_lexical_block:
      case DW_TAG_try_block:
      case DW_TAG_catch_block:
        if (in_function && dwarf_haspc(&child, pc) == 1) {
          return find_outer_inlined_call(&child, pc, true, found);
        }
        break;
      case DW_TAG_inlined_subroutine:
        if (in_function && dwarf_haspc(&child, pc) == 1) {
          *found = child;
          return true;
        }
        break;
      default:
        break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

/// The call site, in the function that owns `address`, of the outermost call inlined there;
/// false when nothing is inlined at `address`.
bool outer_inlined_call(Dwfl_Module* module, Dwarf_Addr address, Symbol& out) {
  Dwarf_Addr bias = 0;
  Dwarf_Die* unit = dwfl_module_addrdie(module, address, &bias);
  Dwarf_Die call;
  if (unit == nullptr || !find_outer_inlined_call(unit, address - bias, false, &call)) {
    return false;
  }
  Dwarf_Attribute attribute;
  Dwarf_Word file = 0, line = 0;
  Dwarf_Files* files = nullptr;
  std::size_t file_count = 0;
  if (dwarf_formudata(dwarf_attr(&call, DW_AT_call_file, &attribute), &file) != 0 ||
      dwarf_formudata(dwarf_attr(&call, DW_AT_call_line, &attribute), &line) != 0 ||
      dwarf_getsrcfiles(unit, &files, &file_count) != 0 || file >= file_count) {
    return false;
  }
  const char* name = dwarf_filesrc(files, file, nullptr, nullptr);
  if (name == nullptr) return false;
  out.file = name;
  out.line = static_cast<std::uint32_t>(line);
  return true;
}

}  // namespace

Symbolizer::Symbolizer() = default;
Symbolizer::~Symbolizer() = default;

const Symbol& Symbolizer::resolve(std::uintptr_t return_address) {
  if (auto it = cache_.find(return_address); it != cache_.end()) return it->second;
  if (!session_) session_ = std::make_unique<Session>();
  Symbol symbol;
  const Dwarf_Addr address = return_address - 1;  // inside the call instruction
  Dwfl_Module* module =
      session_->dwfl == nullptr ? nullptr : dwfl_addrmodule(session_->dwfl, address);
  const char* name = module == nullptr ? nullptr : dwfl_module_addrname(module, address);
  symbol.function = name != nullptr ? demangle(name) : fmt::format("0x{:x}", return_address);
  symbol.library = is_library_function(symbol.function);
  if (module != nullptr && !outer_inlined_call(module, address, symbol)) {
    if (Dwfl_Line* line = dwfl_module_getsrc(module, address)) {
      int lineno = 0;
      if (const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr)) {
        symbol.file = file;
        symbol.line = static_cast<std::uint32_t>(lineno);
      }
    }
  }
  return cache_.emplace(return_address, std::move(symbol)).first->second;
}

}  // namespace ouro::trace::native
