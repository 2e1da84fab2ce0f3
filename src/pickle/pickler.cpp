// ouro::pickle::dumps: the pickler. It writes the bytes CPython 3.11's C pickler
// (Modules/_pickle.c) writes for an equal value, protocol by protocol: the same opcodes, the
// same memo numbering, batches of 1000, 64 KiB frames with large payloads outside them.
//
// Shape: a loop over an explicit work stack (Task) instead of recursion, so that a
// 1,000,000-deep list pickles in constant C++ stack (CPython raises RecursionError there).
// A container's items are walked by one kItems task that saves leaves inline and yields to
// the stack only for a nested container; the opcodes that follow children (TUPLE, REDUCE,
// BUILD, ...) are tasks pushed below them.
//
// Identity. CPython's memo is keyed by object identity; ouro keys it by the Value's object
// pointer, with three emulations of CPython identities that ouro values do not share:
//   - str of length 0, or of one code point below U+0100, and bytes of length 0 or 1 are
//     singletons in CPython (any two equal ones are the same object): keyed by content;
//   - a class (Global, a registered C++ type) is one object per module.qualname: keyed by
//     name, and the module name string its STACK_GLOBAL writes is shared by every class
//     of that module (CPython's cls.__module__ is one interned str);
//   - constants CPython's pickler itself passes around ('latin1' for old bytes) are keyed
//     by name;
//   - names CPython interns are one object per text, and not the singleton: the str keys of
//     a BUILD state dict (load_build interns attribute names), NEWOBJ_EX's keyword names
//     and a Python class's qualname are keyed by text among interned names (save_state).
// Temporaries built while pickling (reduce states of registered C++ types) stay alive in
// keep_alive_ until dumps returns, as CPython's memo keeps them, so no address is reused.
//
// Sets: written in their iteration order, CPython's table order (value/table.h), so a
// loaded set pickles back as CPython pickles it.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <deque>
#if !OURO_BARE_METAL
#include <ostream>
#endif
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "ouro/alloc/std_allocator.h"
#include "ouro/pickle/pickle.h"
#include "pickle/catalogue.h"
#include "pickle/heap_map.h"
#include "pickle/opcodes.h"
#include "pickle/policy.h"
#include "value/float_format.h"
#include "value/internal.h"
#include "value/unicode.h"

namespace ouro::pickle {
namespace {

constexpr std::size_t kBatchSize = 1000;         // _pickle.c BATCHSIZE
constexpr std::size_t kFrameSizeTarget = 65536;  // frames close once this big (PEP 3154)
constexpr std::size_t kFrameSizeMin = 4;         // smaller frames are dropped again
constexpr std::size_t kFrameHeaderSize = 9;      // FRAME + 8-byte length
constexpr std::size_t kNoFrame = static_cast<std::size_t>(-1);

char op(Op code) { return static_cast<char>(code); }

/// The entries of a Dict/Set table as a range of Values (each entry starts with its key;
/// both entry types are standard-layout, so an entry's address is its key's). Deleted
/// entries are in the range; an empty table gives an empty range.
template <class Entry>
std::pair<const Value*, const Value*> entry_values(const ouro::detail::TableStorage<Entry>& table) {
  static_assert(std::is_standard_layout_v<Entry> && offsetof(Entry, key) == 0);
  if (table.empty()) return {nullptr, nullptr};
  return {reinterpret_cast<const Value*>(table.begin().operator->()),
          reinterpret_cast<const Value*>(table.end().operator->())};
}

// --- memo keys (see the file comment) -------------------------------------------------
// Object pointers end in 0000; synthetic keys use the low nibble as a tag.
constexpr std::uint64_t kTagChar = 0x1;   // str singleton: (code point or 256 for '') << 4
constexpr std::uint64_t kTagByte = 0x2;   // bytes singleton: (byte or 256 for b'') << 4
constexpr std::uint64_t kTagNamed = 0x3;  // a name from Pickler::named_key()

/// The memo: key -> index, open addressing (keys are never 0). CPython's is also a
/// pointer-keyed open-addressing table (PyMemoTable).
class MemoTable {
 public:
  explicit MemoTable(StdAllocator<char> alloc) : slots_(alloc) { rehash(64); }
  /// The index for `key`, or -1.
  std::int64_t find(std::uint64_t key) const noexcept {
    for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return slots_[i].index;
      if (slots_[i].key == 0) return -1;
    }
  }
  void insert(std::uint64_t key, std::uint32_t index) {
    if ((used_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    std::size_t i = slot(key);
    while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & mask_;
    if (slots_[i].key == 0) ++used_;
    slots_[i] = {key, index};
  }

 private:
  struct Slot {
    std::uint64_t key;
    std::uint32_t index;
  };
  std::size_t slot(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
  }
  void rehash(std::size_t capacity) {
    HeapVector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{0, 0});
    mask_ = capacity - 1;
    used_ = 0;
    for (const Slot& s : old) {
      if (s.key != 0) insert(s.key, s.index);
    }
  }
  HeapVector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
};

/// How a run of items is closed into the container (the batching of _pickle.c).
enum class Batching : std::uint8_t {
  kNone,      // items only (tuple, frozenset): the caller writes what follows
  kEach,      // one op after each item (protocol 0; a 1-item exact list or dict)
  kExact,     // batch_list_exact: MARK ... APPENDS per 1000 items
  kDoWhile,   // batch_dict_exact / save_set: as kExact, plus an empty MARK..op batch
              // when the count is a multiple of 1000 (their do-while loop)
  kIterator,  // batch_list / batch_dict over an iterator (REDUCE's list/dict items): as
              // kExact, but a batch of one item is written with the single op
};

enum class TaskKind : std::uint8_t {
  kSave,             // save(*at)
  kSavePid,          // save(*at) without asking persistent_id (it is a persistent id)
  kSaveState,        // save(*at) as BUILD's state: dict keys are interned names
  kItems,            // the items of a container, with their batching
  kWrite,            // write `bytes` (1..8 bytes)
  kFinishTuple,      // TUPLEn/TUPLE or the recursive-tuple GET, then memoize
  kFinishFrozenSet,  // FROZENSET or the recursive GET, then memoize
  kFinishReduce,     // memoize the object (or POP + GET), then list/dict items and state
  kCloseArgs,        // TUPLE1 (TUPLE below protocol 2) of a 1-item args tuple, memoize, REDUCE
};

struct Task {
  TaskKind kind;
  Batching batching = Batching::kNone;
  std::uint8_t width = 1;          // kItems: Values per entry (2 for dict entries)
  std::uint8_t phase = 0;          // kItems: next Value within the current entry
  char single_op = 0;              // kItems: APPEND / SETITEM
  char batch_op = 0;               // kItems: APPENDS / SETITEMS / ADDITEMS
  std::uint32_t done = 0;          // kItems: entries finished; kWrite: byte count
  std::uint32_t total = 0;         // kItems: entries in all; kFinishTuple: tuple size
  const Value* at = nullptr;       // kSave: the value; kItems: current entry; kFinishReduce: state
  const Value* end = nullptr;      // kItems: end of the entries (deleted ones are skipped)
  const Object* object = nullptr;  // finish tasks: the container / reduced object
  bool shared = false;             // finish tasks: enter_late_memo() counted the object
  bool state = false;              // kItems: entries of a BUILD state (see save_state)
  std::uint64_t bytes = 0;         // kWrite
};

/// One dumps() call. Its tables are in `heap`; the pickle goes to a std::string (dumps) or
/// to a string in the heap (dumps_bytes), chosen by which dump is called.
class Pickler {
 public:
  Pickler(const DumpOptions& options, Heap& heap);
  std::string dump(const Value& root);
  /// The pickle as a Bytes in the heap: nothing outside the heap is used.
  Ref<Bytes> dump_bytes(const Value& root);

 private:
  // --- output and framing (_Pickler_Write, _Pickler_CommitFrame) ---
  // out_ is kept at its full size with len_ bytes in use, so that small writes are a
  // bounds check and a store (std::string would check and zero-terminate each time).
  // The writes below are forced inline: save()'s switch is past the inliner's budget, and a
  // call per written opcode was a fifth of dumping a list of records.
  [[gnu::always_inline]] char* room(std::size_t n) {
    if ((frame_start_ == kNoFrame && framing_) || len_ + n > cap_) [[unlikely]]
      make_room(n);
    return buf_ + len_;
  }
  [[gnu::noinline]] void make_room(std::size_t n) {
    if (frame_start_ == kNoFrame && framing_) open_frame();
    if (len_ + n > cap_) grow(len_ + n);
  }
  void grow(std::size_t need) {
    if (to_heap_) {
      heap_out_.resize(std::max(need, heap_out_.size() * 2));
      buf_ = heap_out_.data();
    } else {
      out_.resize(std::max(need, out_.size() * 2));
      buf_ = out_.data();
    }
    cap_ = std::max(need, cap_ * 2);
  }
  void open_frame() {
    frame_start_ = len_;
    if (len_ + kFrameHeaderSize > cap_) grow(len_ + kFrameHeaderSize);
    len_ += kFrameHeaderSize;  // the FRAME opcode and length go here at commit
  }
  [[gnu::always_inline]] void write(char c) {
    *room(1) = c;
    ++len_;
  }
  [[gnu::always_inline]] void write(std::string_view s) {
    char* p = room(s.size());
    if (!s.empty()) std::memcpy(p, s.data(), s.size());  // an empty view may hold nullptr
    len_ += s.size();
  }
  [[gnu::always_inline]] void write_le(std::uint64_t n, int size) {
    char* p = room(8);
    for (int i = 0; i < size; ++i) p[i] = static_cast<char>(n >> (8 * i));
    len_ += static_cast<std::size_t>(size);
  }
  /// An opcode and its little-endian argument of `size` bytes, in one write.
  [[gnu::always_inline]] void write_op_le(Op code, std::uint64_t n, int size) {
    char* p = room(9);
    p[0] = op(code);
    for (int i = 0; i < size; ++i) p[1 + i] = static_cast<char>(n >> (8 * i));
    len_ += 1 + static_cast<std::size_t>(size);
  }
  /// Formatted text written in place (no temporary string): the text forms of protocol 0-1.
  template <class... Args>
  void write_format(fmt::format_string<Args...> format, Args&&... args) {
    write_vformat(format, fmt::make_format_args(args...));
  }
  void write_vformat(fmt::string_view format, fmt::format_args args) {
    std::array<char, 128> text;  // nearly always enough; else formatted again in place
    const auto result = fmt::vformat_to_n(text.data(), text.size(), format, args);
    if (result.size <= text.size()) return write(std::string_view(text.data(), result.size));
    fmt::vformat_to(room(result.size), format, args);
    len_ += result.size;
  }
  void write_payload(std::string_view header, std::span<const std::byte> data);
  void write_pickle(const Value& root);
  void commit_frame();
  /// pickle.py commits at the start of every save(): frames end at item boundaries.
  void frame_boundary() {
    if (frame_start_ != kNoFrame && len_ - frame_start_ - kFrameHeaderSize >= kFrameSizeTarget) {
      commit_frame();
    }
  }

  // --- memo ---
  std::uint64_t named_key(std::string_view kind, std::string_view name,
                          std::string_view qualname = {});
  bool write_get(std::uint64_t key);
  void write_get_index(std::uint32_t index);
  void memo_put(std::uint64_t key);
  void memo_put_anonymous() { memo_put(0); }

  // --- saving ---
  void run();
  void save(const Value& v, bool ask_pid = true);
  bool saved_as_persistent_id(const Value& v);
  void push_save(const Value* v, TaskKind kind = TaskKind::kSave) {
    stack_.push_back(Task{.kind = kind, .at = v});
  }
  void push_write(std::string_view s);
  void push_items(const Value* begin, const Value* end, std::size_t count, std::uint8_t width,
                  Batching batching, char single_op, char batch_op, bool state = false);
  void run_items(std::size_t index);
  void save_pid(const Value& pid);
  void save_int(std::int64_t n);
  const Value* write_small_ints(const Value* p, const Value* stop);
  void save_big_int(const Value& v);
  void save_float(double x);
  void save_str(const Str& s, std::uint64_t key);
  void save_str_text(std::string_view utf8, std::uint64_t key);
  void save_bytes(const Bytes& b, std::uint64_t key);
  void save_bytes_data(std::span<const std::byte> data, std::uint64_t key);
  void save_bytearray(const ByteArray& a, std::uint64_t key);
  void save_bytearray_data(std::span<const std::byte> data, std::uint64_t key);
  void save_old_bytes(std::span<const std::byte> data, std::uint64_t key, bool bytearray);
  void save_buffer(const Buffer& b, std::uint64_t key);
  void save_state(const Value& v);
  void save_interned_name(const Value& name);
  void save_tuple(const Tuple& t, bool state = false);
  void finish_tuple(const Task& task);
  void save_list(const List& l);
  void save_dict(const Dict& d, bool state = false);
  void save_set(const AnySet& s, bool frozen);
  void finish_frozenset(const Task& task);
  void save_global(std::string_view module, std::string_view qualname, std::uint64_t key);
  void save_module_name(std::string_view module, std::string_view qualname);
  void save_instance(const Object& obj, const Value& cls, const Value* state,
                     const TypeRegistration* registration = nullptr);
  void save_class(const Value& cls, const TypeRegistration* registration);
  void save_class_by_name(std::string_view module, std::string_view qualname);
  void save_reduce(const Reduce& r);
#if !OURO_BARE_METAL
  void save_newobj_ex_as_partial(const Tuple& args);
#endif
  void finish_reduce(const Task& task);
  void save_registered(const Object& obj, const TypeRegistration& registration);
  static bool has_state(const Value* state);
  std::uint64_t identity_key(const Object& o) const;
  /// Opens / closes the item region of an object memoized after its items (see
  /// identity_key): returns whether the object counted as shared.
  bool enter_late_memo(const Object& o) {
    const bool shared = o.refcount() > 1;
    late_memo_shared_ += shared ? 1 : 0;
    return shared;
  }
  std::uint64_t str_key(const Str& s) const;
  std::uint64_t bytes_key(std::span<const std::byte> data, const Object* o) const;

  const DumpOptions& options_;
  StdAllocator<char> alloc_;  // the heap's, for everything below
  int proto_;
  bool bin_;
  bool plain_ints_;  // no persistent_id: ints in a run of items are written inline
  bool framing_ = false;
  std::size_t frame_start_ = kNoFrame;
  bool to_heap_ = false;  // the pickle goes to heap_out_ (dump_bytes), else to out_
  std::string out_;       // the pickle so far: len_ bytes used, the rest spare
  HeapString heap_out_;   // the same for dump_bytes
  std::size_t len_ = 0;   // bytes of the output written
  char* buf_ = nullptr;   // the output's data(), cached
  std::size_t cap_ = 0;   // the output's size(), cached
  MemoTable memo_;
  std::uint32_t memo_size_ = 0;
  detail::HeapMap<HeapString, std::uint64_t, detail::TextHash> names_;
  std::uint64_t one_char_interned_[256] = {};  // named_key("I", one byte), 0: not yet
  HeapVector<Task> stack_;
  std::size_t late_memo_shared_ = 0;  // open item regions of shared late-memoized objects
  std::deque<Value, StdAllocator<Value>> keep_alive_;  // temporaries, stable addresses (see
                                                       // the file comment)
#if !OURO_BARE_METAL
  // cls.__new__ per class name (protocols 2-3 NEWOBJ_EX): one object per class in CPython.
  std::unordered_map<std::string, const Value*> new_methods_;
#endif
  // Type ids, looked up once.
  std::uint16_t int_id_, float_id_, str_id_, bytes_id_, bytearray_id_, tuple_id_, list_id_,
      dict_id_, set_id_, frozenset_id_, global_id_, instance_id_, reduce_id_, buffer_id_;
};

Pickler::Pickler(const DumpOptions& options, Heap& heap)
    : options_(options),
      alloc_(heap.allocator()),
      proto_(options.protocol < 0 ? kHighestProtocol : options.protocol),
      bin_(proto_ >= 1),
      plain_ints_(!options.persistent_id),
      heap_out_(alloc_),
      memo_(alloc_),
      names_(alloc_),
      stack_(alloc_),
      keep_alive_(alloc_),
      int_id_(ouro::detail::value_type_id<Int>()),
      float_id_(ouro::detail::value_type_id<Float>()),
      str_id_(ouro::detail::value_type_id<Str>()),
      bytes_id_(ouro::detail::value_type_id<Bytes>()),
      bytearray_id_(ouro::detail::value_type_id<ByteArray>()),
      tuple_id_(ouro::detail::value_type_id<Tuple>()),
      list_id_(ouro::detail::value_type_id<List>()),
      dict_id_(ouro::detail::value_type_id<Dict>()),
      set_id_(ouro::detail::value_type_id<Set>()),
      frozenset_id_(ouro::detail::value_type_id<FrozenSet>()),
      global_id_(ouro::detail::value_type_id<Global>()),
      instance_id_(ouro::detail::value_type_id<Instance>()),
      reduce_id_(ouro::detail::value_type_id<Reduce>()),
      buffer_id_(ouro::detail::type_id_of<Buffer>()) {
  if (proto_ > kHighestProtocol) {
    throw PicklingError(fmt::format("pickle protocol must be <= {}", kHighestProtocol));
  }
}

void Pickler::write_pickle(const Value& root) {
  grow(4096);
  stack_.reserve(64);
  if (proto_ >= 2) {
    write_op_le(Op::kProto, static_cast<std::uint64_t>(proto_), 1);
    framing_ = proto_ >= 4;
  }
  save(root);
  run();
  write(op(Op::kStop));
  commit_frame();
}

std::string Pickler::dump(const Value& root) {
  write_pickle(root);
  out_.resize(len_);
  return std::move(out_);
}

Ref<Bytes> Pickler::dump_bytes(const Value& root) {
  to_heap_ = true;
  write_pickle(root);
  return Bytes::make(Heap::of(alloc_.allocator()), std::as_bytes(std::span(buf_, len_)));
}

void Pickler::commit_frame() {
  if (frame_start_ == kNoFrame) return;
  const std::size_t length = len_ - frame_start_ - kFrameHeaderSize;
  if (length >= kFrameSizeMin) {
    buf_[frame_start_] = op(Op::kFrame);
    for (std::size_t i = 0; i < 8; ++i) {
      buf_[frame_start_ + 1 + i] = static_cast<char>(static_cast<std::uint64_t>(length) >> (8 * i));
    }
  } else {
    std::memmove(buf_ + frame_start_, buf_ + frame_start_ + kFrameHeaderSize, length);
    len_ -= kFrameHeaderSize;
  }
  frame_start_ = kNoFrame;
}

// _Pickler_write_bytes: a payload of 64 KiB or more goes outside any frame, header too.
void Pickler::write_payload(std::string_view header, std::span<const std::byte> data) {
  const std::string_view bytes(reinterpret_cast<const char*>(data.data()), data.size());
  if (framing_ && data.size() >= kFrameSizeTarget) {
    commit_frame();
    const auto append_exactly = [&](auto& out) {
      // Grow to the exact size first: doubling a huge buffer would copy the payload twice.
      if (len_ + header.size() + bytes.size() > out.size()) {
        out.resize(len_);
        out.reserve(len_ + header.size() + bytes.size() + 64);
      }
      out.resize(len_);  // no-op unless spare bytes follow
      out.append(header);
      out.append(bytes);
      len_ = out.size();
      out.resize(out.capacity());
      buf_ = out.data();
      cap_ = out.size();
    };
    if (to_heap_) {
      append_exactly(heap_out_);
    } else {
      append_exactly(out_);
    }
    return;
  }
  write(header);
  write(bytes);
}

// The memo key of a name: `kind` then the name, or then "module\nqualname" for a class.
// Asked for every attribute name of every instance (a state dict's keys are interned
// names): the key is composed on the stack and looked up without a string made; a
// one-character interned name (the commonest: 'x', 'a') is answered from an array.
std::uint64_t Pickler::named_key(std::string_view kind, std::string_view name,
                                 std::string_view qualname) {
  const bool one_char_name = kind == "I" && name.size() == 1 && qualname.empty();
  std::uint64_t* cached = nullptr;
  if (one_char_name) {
    cached = &one_char_interned_[static_cast<unsigned char>(name[0])];
    if (*cached != 0) return *cached;
  }
  const std::size_t n = kind.size() + name.size() + (qualname.empty() ? 0 : 1 + qualname.size());
  char stack[160];
  HeapString spill{alloc_};
  char* at = stack;
  if (n > sizeof stack) {
    spill.resize(n);
    at = spill.data();
  }
  std::memcpy(at, kind.data(), kind.size());
  std::memcpy(at + kind.size(), name.data(), name.size());
  if (!qualname.empty()) {
    at[kind.size() + name.size()] = '\n';
    std::memcpy(at + kind.size() + name.size() + 1, qualname.data(), qualname.size());
  }
  const std::string_view key(at, n);
  auto it = names_.find(key);
  if (it == names_.end()) {
    it = names_.try_emplace(HeapString(key, alloc_), 0).first;
    it->second = (names_.size() << 4) | kTagNamed;
  }
  if (cached != nullptr) *cached = it->second;
  return it->second;
}

void Pickler::write_get_index(std::uint32_t index) {
  if (!bin_) {
    write_format("g{}\n", index);
  } else if (index < 256) {
    write(op(Op::kBinGet));
    write(static_cast<char>(index));
  } else {
    write(op(Op::kLongBinGet));
    write_le(index, 4);
  }
}

bool Pickler::write_get(std::uint64_t key) {
  if (key == 0) return false;
  const std::int64_t index = memo_.find(key);
  if (index < 0) return false;
  write_get_index(static_cast<std::uint32_t>(index));
  return true;
}

void Pickler::memo_put(std::uint64_t key) {
  const std::uint32_t index = memo_size_++;
  if (key != 0) memo_.insert(key, index);
  if (proto_ >= 4) {
    write(op(Op::kMemoize));
  } else if (!bin_) {
    write_format("p{}\n", index);
  } else if (index < 256) {
    write(op(Op::kBinPut));
    write(static_cast<char>(index));
  } else {
    write(op(Op::kLongBinPut));
    write_le(index, 4);
  }
}

// An object that only one reference reaches (its container, or the caller for the root)
// is met once — unless that container is walked twice, which happens only to an object
// memoized after its items (tuple, frozenset, a REDUCE's arguments) that is shared and
// reached again from inside itself. Outside the items of such shared objects
// (late_memo_shared_ == 0), a singly referenced object takes a memo index but no table
// entry and is never looked up. Most objects of typical data are such, so this keeps the
// table small and cache-warm.
std::uint64_t Pickler::identity_key(const Object& o) const {
  return o.refcount() > 1 || late_memo_shared_ > 0 ? reinterpret_cast<std::uint64_t>(&o) : 0;
}

std::uint64_t Pickler::str_key(const Str& s) const {
  if (s.size() == 0) return (std::uint64_t{256} << 4) | kTagChar;
  if (s.size() == 1) {
    const auto first = static_cast<unsigned char>(s.utf8()[0]);
    std::size_t pos = 0;
    const char32_t cp = first < 0x80 ? first : value::detail::decode_code_point(s.utf8(), pos);
    if (cp < 256) return (static_cast<std::uint64_t>(cp) << 4) | kTagChar;
  }
  return identity_key(s);
}

std::uint64_t Pickler::bytes_key(std::span<const std::byte> data, const Object* o) const {
  if (data.empty()) return (std::uint64_t{256} << 4) | kTagByte;
  if (data.size() == 1) return (static_cast<std::uint64_t>(data[0]) << 4) | kTagByte;
  return o == nullptr ? 0 : identity_key(*o);
}

// --- the work loop ---------------------------------------------------------------------

void Pickler::push_write(std::string_view s) {
  Task t{.kind = TaskKind::kWrite};
  t.done = static_cast<std::uint32_t>(s.size());
  std::memcpy(&t.bytes, s.data(), s.size());
  stack_.push_back(t);
}

void Pickler::push_items(const Value* begin, const Value* end, std::size_t count,
                         std::uint8_t width, Batching batching, char single_op, char batch_op,
                         bool state) {
  Task t{.kind = TaskKind::kItems, .batching = batching, .width = width};
  t.state = state;
  t.single_op = single_op;
  t.batch_op = batch_op;
  t.total = static_cast<std::uint32_t>(count);
  t.at = begin;
  t.end = end;
  stack_.push_back(t);
}

void Pickler::run() {
  while (!stack_.empty()) {
    const std::size_t top = stack_.size() - 1;
    switch (stack_[top].kind) {
      case TaskKind::kItems:
        run_items(top);
        break;
      case TaskKind::kSave:
      case TaskKind::kSavePid: {
        const Task t = stack_[top];
        stack_.pop_back();
        save(*t.at, t.kind == TaskKind::kSave);
        break;
      }
      case TaskKind::kSaveState: {
        const Task t = stack_[top];
        stack_.pop_back();
        save_state(*t.at);
        break;
      }
      case TaskKind::kWrite: {
        const Task t = stack_[top];
        stack_.pop_back();
        write(std::string_view(reinterpret_cast<const char*>(&t.bytes), t.done));
        break;
      }
      case TaskKind::kFinishTuple: {
        const Task t = stack_[top];
        stack_.pop_back();
        finish_tuple(t);
        break;
      }
      case TaskKind::kFinishFrozenSet: {
        const Task t = stack_[top];
        stack_.pop_back();
        finish_frozenset(t);
        break;
      }
      case TaskKind::kCloseArgs:
        stack_.pop_back();
        write(op(proto_ >= 2 ? Op::kTuple1 : Op::kTuple));
        memo_put_anonymous();
        write(op(Op::kReduce));
        break;
      case TaskKind::kFinishReduce: {
        const Task t = stack_[top];
        stack_.pop_back();
        finish_reduce(t);
        break;
      }
    }
  }
}

// Saves the items of stack_[index] until one of them pushes work of its own (then this
// task resumes once that work is done) or all are written.
void Pickler::run_items(std::size_t index) {
  for (;;) {
    Task& t = stack_[index];
    if (t.phase == t.width) {  // the current entry is written: close it if its batch ends
      t.phase = 0;
      t.at += t.width;
      const std::uint32_t k = t.done++;
      const std::uint32_t batch_start = k - k % kBatchSize;
      const std::uint32_t batch_len = std::min<std::uint32_t>(kBatchSize, t.total - batch_start);
      const bool batch_end = k + 1 == batch_start + batch_len;
      switch (t.batching) {
        case Batching::kNone:
          break;
        case Batching::kEach:
          write(t.single_op);
          break;
        case Batching::kIterator:
          if (batch_end) write(batch_len == 1 ? t.single_op : t.batch_op);
          break;
        case Batching::kExact:
        case Batching::kDoWhile:
          if (batch_end) write(t.batch_op);
          break;
      }
    }
    while (t.at != t.end && ValueAccess::is_empty(*t.at)) t.at += t.width;  // deleted entries
    if (t.done == t.total) {
      const bool trailing = t.batching == Batching::kDoWhile && t.total % kBatchSize == 0;
      const char batch_op = t.batch_op;
      stack_.pop_back();
      if (trailing) {  // the do-while's last, empty batch
        write(op(Op::kMark));
        write(batch_op);
      }
      return;
    }
    if (t.phase == 0 && t.done % kBatchSize == 0 &&
        (t.batching == Batching::kExact || t.batching == Batching::kDoWhile ||
         (t.batching == Batching::kIterator && t.total - t.done > 1))) {
      write(op(Op::kMark));
    }
    if (t.width == 1 && t.batching != Batching::kEach && plain_ints_) {
      // Leave the batch's last item to this loop, which closes the batch after it.
      const std::uint32_t in_batch =
          std::min<std::uint32_t>(kBatchSize - t.done % kBatchSize, t.total - t.done);
      const Value* const from = t.at;
      t.at = write_small_ints(from, from + (in_batch - 1));
      t.done += static_cast<std::uint32_t>(t.at - from);
      while (ValueAccess::is_empty(*t.at)) ++t.at;  // a set's deleted entry stopped the run
    }
    const std::size_t phase = t.phase++;
    const Value& v = t.at[phase];
    const std::size_t depth = stack_.size();
    if (!t.state) {
      save(v);
    } else if (t.width == 2) {  // a state dict: its keys are names, its values plain
      phase == 0 ? save_interned_name(v) : save(v);
    } else {  // a (dict, slots) state tuple
      save_state(v);
    }
    if (stack_.size() != depth) return;  // v pushed work: resume after it
  }
}

// save()'s first step: persistent_id(v), written instead of v when it is not None.
bool Pickler::saved_as_persistent_id(const Value& v) {
  if (!options_.persistent_id) return false;
  Value pid = options_.persistent_id(v);
  if (pid.is_none()) return false;
  save_pid(keep_alive_.emplace_back(std::move(pid)));
  return true;
}

void Pickler::save(const Value& v, bool ask_pid) {
  frame_boundary();
  if (ask_pid && saved_as_persistent_id(v)) return;
  if (v.is_small_int()) return save_int(v.small_value());
  if (v.is_none()) return write(op(Op::kNone));
  if (v.is_bool()) {
    const bool b = v.as<bool>();
    if (proto_ >= 2) return write(op(b ? Op::kNewTrue : Op::kNewFalse));
    return write(b ? "I01\n" : "I00\n");
  }
  const Object& o = *v.object();
  const std::uint16_t type = o.type_id();
  if (type == int_id_) return save_big_int(v);
  if (type == float_id_) return save_float(static_cast<const Float&>(o).value());
  if (type == str_id_) {
    const std::uint64_t key = str_key(static_cast<const Str&>(o));
    if (!write_get(key)) save_str(static_cast<const Str&>(o), key);
    return;
  }
  if (type == bytes_id_) {
    const auto& b = static_cast<const Bytes&>(o);
    const std::uint64_t key = bytes_key(b.data(), &o);
    if (!write_get(key)) save_bytes(b, key);
    return;
  }
  const std::uint64_t key = identity_key(o);
  if (write_get(key)) return;
  if (type == list_id_) return save_list(static_cast<const List&>(o));
  if (type == dict_id_) return save_dict(static_cast<const Dict&>(o));
  if (type == tuple_id_) return save_tuple(static_cast<const Tuple&>(o));
  if (type == instance_id_) {
    const auto& inst = static_cast<const Instance&>(o);
    return save_instance(o, inst.cls(), &inst.state());
  }
  if (type == set_id_ || type == frozenset_id_) {
    return save_set(static_cast<const AnySet&>(o), type == frozenset_id_);
  }
  if (type == bytearray_id_) return save_bytearray(static_cast<const ByteArray&>(o), key);
  if (type == global_id_) {
    const auto& g = static_cast<const Global&>(o);
    const std::uint64_t name = named_key("G", g.module(), g.qualname());
    const std::int64_t index = memo_.find(name);
    if (index >= 0) {
      if (key != 0) memo_.insert(key, static_cast<std::uint32_t>(index));  // next time by pointer
      return write_get_index(static_cast<std::uint32_t>(index));
    }
    save_global(g.module(), g.qualname(), name);
    if (key != 0) memo_.insert(key, memo_size_ - 1);
    return;
  }
  if (type == reduce_id_) return save_reduce(static_cast<const Reduce&>(o));
  if (type == buffer_id_) return save_buffer(static_cast<const Buffer&>(o), key);
  if (const TypeRegistration* r = find_registration(type)) return save_registered(o, *r);
  throw PicklingError(fmt::format("cannot pickle '{}' object", o.type_name()));
}

// save_pers: BINPERSID after the id, or PERSID with the id's text below protocol 1.
void Pickler::save_pid(const Value& pid) {
  if (bin_) {
    push_write(std::string_view("Q", 1));
    push_save(&pid, TaskKind::kSavePid);
    return;
  }
  std::string text;
  if (const Str* s = pid.get_if<Str>()) {
    text = s->utf8();
  } else if (pid.is_int()) {
    text = Int::to_decimal(pid);
  }
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x80 && c != '\n';
      })) {
    throw PicklingError("persistent IDs in protocol 0 must be ASCII strings");
  }
  write(op(Op::kPersId));
  write(text);
  write('\n');
}

// --- scalars ---------------------------------------------------------------------------

// save_long: BININT1/2/BININT for 32-bit values, LONG1 beyond (protocol 2+), INT/LONG text.
void Pickler::save_int(std::int64_t n) {
  if (n >= INT32_MIN && n <= INT32_MAX) {
    if (!bin_) return write_format("I{}\n", n);
    const auto u = static_cast<std::uint32_t>(n);
    if (u <= 0xff) return write_op_le(Op::kBinInt1, u, 1);
    if (u <= 0xffff) return write_op_le(Op::kBinInt2, u, 2);
    return write_op_le(Op::kBinInt, u, 4);
  }
  if (proto_ < 2) return write_format("L{}L\n", n);
  // Shortest little-endian two's complement (pickle.encode_long).
  const auto u = static_cast<std::uint64_t>(n);
  int size = 8;
  while (size > 1) {
    const auto top = static_cast<std::uint8_t>(u >> (8 * (size - 1)));
    const bool next_negative = ((u >> (8 * (size - 1) - 1)) & 1) != 0;
    if (!((top == 0 && !next_negative) || (top == 0xff && next_negative))) break;
    --size;
  }
  write(op(Op::kLong1));
  write(static_cast<char>(size));
  write_le(u, size);
}

// The fast path of save() for a run of binary-protocol ints of 32 bits, the bulk of
// numeric lists: one capacity check per chunk and a local cursor (stores through char*
// would otherwise make the compiler reload every member). Stops, returning where, at the
// first item that is not such an int, at `stop`, or where a frame must be committed.
const Value* Pickler::write_small_ints(const Value* p, const Value* stop) {
  constexpr std::size_t kChunk = 512;
  if (!bin_) return p;
  while (p < stop) {
    const Value* const chunk_end =
        p + std::min<std::size_t>(kChunk, static_cast<std::size_t>(stop - p));
    char* q = room(kChunk * 5);
    char* const base = buf_;
    const std::size_t frame_end =
        frame_start_ == kNoFrame ? SIZE_MAX : frame_start_ + kFrameHeaderSize + kFrameSizeTarget;
    while (p < chunk_end && p->is_small_int() && static_cast<std::size_t>(q - base) < frame_end) {
      const std::int64_t n = p->small_value();
      if (n < INT32_MIN || n > INT32_MAX) break;
      const auto u = static_cast<std::uint32_t>(n);
      if (u <= 0xff) {
        q[0] = op(Op::kBinInt1);
        q[1] = static_cast<char>(u);
        q += 2;
      } else if (u <= 0xffff) {
        q[0] = op(Op::kBinInt2);
        q[1] = static_cast<char>(u);
        q[2] = static_cast<char>(u >> 8);
        q += 3;
      } else {
        q[0] = op(Op::kBinInt);
        for (int i = 0; i < 4; ++i) q[1 + i] = static_cast<char>(u >> (8 * i));
        q += 5;
      }
      ++p;
    }
    len_ = static_cast<std::size_t>(q - base);
    if (p != chunk_end) break;  // not a small int, or a frame to commit: save() does it
  }
  return p;
}

void Pickler::save_big_int(const Value& v) {
  if (proto_ < 2) return write(fmt::format("L{}L\n", Int::to_decimal(v)));
  const std::size_t size = Int::bytes_size(v);
  if (size < 256) {
    write(op(Op::kLong1));
    write(static_cast<char>(size));
  } else {
    if (size > 0x7fffffff) throw OverflowError("int too large to pickle");
    write(op(Op::kLong4));
    write_le(size, 4);
  }
  char* bytes = room(size);
  Int::write_bytes(v, std::span(reinterpret_cast<std::byte*>(bytes), size));
  len_ += size;
}

void Pickler::save_float(double x) {
  if (!bin_) {
    std::array<char, value::detail::kFloatReprCapacity> buf;
    const std::size_t n = value::detail::write_float_repr(x, buf);
    write(op(Op::kFloat));
    write(std::string_view(buf.data(), n));
    return write('\n');
  }
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  std::array<char, 9> b;
  b[0] = op(Op::kBinFloat);
  for (std::size_t i = 0; i < 8; ++i) b[1 + i] = static_cast<char>(bits >> (8 * (7 - i)));
  write(std::string_view(b.data(), b.size()));
}

void Pickler::save_str(const Str& s, std::uint64_t key) { save_str_text(s.utf8(), key); }

// save_unicode: SHORT_BINUNICODE / BINUNICODE / BINUNICODE8, or protocol 0's
// raw-unicode-escape line with \, NUL, \n, \r and \x1a escaped too.
void Pickler::save_str_text(std::string_view utf8, std::uint64_t key) {
  if (bin_) {
    const std::size_t n = utf8.size();
    std::array<char, 9> h;
    std::size_t len;
    if (n <= 0xff && proto_ >= 4) {
      h[0] = op(Op::kShortBinUnicode);
      h[1] = static_cast<char>(n);
      len = 2;
    } else if (n <= 0xffffffffu) {
      h[0] = op(Op::kBinUnicode);
      for (std::size_t i = 0; i < 4; ++i) h[1 + i] = static_cast<char>(n >> (8 * i));
      len = 5;
    } else if (proto_ >= 4) {
      h[0] = op(Op::kBinUnicode8);
      for (std::size_t i = 0; i < 8; ++i)
        h[1 + i] = static_cast<char>(static_cast<std::uint64_t>(n) >> (8 * i));
      len = 9;
    } else {
      throw PicklingError("cannot serialize a string larger than 4GiB");
    }
    write_payload(std::string_view(h.data(), len), as_bytes(utf8));
  } else {
    write(op(Op::kUnicode));
    std::size_t pos = 0;
    while (pos < utf8.size()) {
      const char32_t cp = value::detail::decode_code_point(utf8, pos);
      if (cp >= 0x10000) {
        write_format("\\U{:08x}", static_cast<std::uint32_t>(cp));
      } else if (cp >= 256 || cp == '\\' || cp == 0 || cp == '\n' || cp == '\r' || cp == 0x1a) {
        write_format("\\u{:04x}", static_cast<std::uint32_t>(cp));
      } else {
        write(static_cast<char>(cp));  // latin-1, as raw-unicode-escape does
      }
    }
    write('\n');
  }
  memo_put(key);
}

void Pickler::save_bytes(const Bytes& b, std::uint64_t key) {
  if (proto_ < 3) return save_old_bytes(b.data(), key, false);
  save_bytes_data(b.data(), key);
}

void Pickler::save_bytes_data(std::span<const std::byte> data, std::uint64_t key) {
  const std::size_t n = data.size();
  std::array<char, 9> h;
  std::size_t len;
  if (n <= 0xff) {
    h[0] = op(Op::kShortBinBytes);
    h[1] = static_cast<char>(n);
    len = 2;
  } else if (n <= 0xffffffffu) {
    h[0] = op(Op::kBinBytes);
    for (std::size_t i = 0; i < 4; ++i) h[1 + i] = static_cast<char>(n >> (8 * i));
    len = 5;
  } else if (proto_ >= 4) {
    h[0] = op(Op::kBinBytes8);
    for (std::size_t i = 0; i < 8; ++i)
      h[1 + i] = static_cast<char>(static_cast<std::uint64_t>(n) >> (8 * i));
    len = 9;
  } else {
    throw PicklingError("cannot serialize a bytes object larger than 4 GiB");
  }
  write_payload(std::string_view(h.data(), len), data);
  memo_put(key);
}

void Pickler::save_bytearray(const ByteArray& a, std::uint64_t key) {
  if (proto_ < 5) return save_old_bytes(a.data(), key, true);
  save_bytearray_data(a.data(), key);
}

void Pickler::save_bytearray_data(std::span<const std::byte> data, std::uint64_t key) {
  std::array<char, 9> h;
  h[0] = op(Op::kByteArray8);
  for (std::size_t i = 0; i < 8; ++i)
    h[1 + i] = static_cast<char>(static_cast<std::uint64_t>(data.size()) >> (8 * i));
  write_payload(std::string_view(h.data(), h.size()), data);
  memo_put(key);
}

// Bytes below protocol 3 and bytearray below 5 have no opcode: CPython reduces them.
//   bytes:     _codecs.encode(data.decode('latin1'), 'latin1'), or bytes() when empty
//   bytearray: bytearray(bytes(data)), or bytearray() when empty
void Pickler::save_old_bytes(std::span<const std::byte> data, std::uint64_t key, bool bytearray) {
  const bool empty = data.empty();
  if (bytearray || empty) {
    save_class_by_name("builtins", bytearray ? "bytearray" : "bytes");
  } else {
    save_class_by_name("_codecs", "encode");
  }
  frame_boundary();  // save(args)
  if (empty) {
    write(proto_ == 0 ? std::string_view("(t", 2) : std::string_view(")", 1));
  } else {
    if (proto_ < 2) write(op(Op::kMark));
    frame_boundary();  // save(args[0])
    if (bytearray) {   // bytes(bytearray) is a fresh object, even for one byte
      if (proto_ < 3) {
        save_old_bytes(data, 0, false);
      } else {
        save_bytes_data(data, 0);
      }
    } else {
      HeapString latin1{alloc_};  // the bytes as a str of code points 0..255, in UTF-8
      for (std::byte b : data) {
        std::array<char, value::detail::kMaxUtf8Length> buf;
        latin1.append(buf.data(), value::detail::encode_code_point(static_cast<char32_t>(b), buf));
      }
      const std::uint64_t text_key =
          data.size() == 1 ? (static_cast<std::uint64_t>(data[0]) << 4) | kTagChar : 0;
      if (text_key == 0 || !write_get(text_key)) save_str_text(latin1, text_key);
      const std::uint64_t latin1_key = named_key("S", "latin1");
      if (!write_get(latin1_key)) save_str_text("latin1", latin1_key);
    }
    const std::size_t n = bytearray ? 1 : 2;
    if (proto_ >= 2) {
      write(op(n == 1 ? Op::kTuple1 : Op::kTuple2));
    } else {
      write(op(Op::kTuple));
    }
    memo_put_anonymous();
  }
  write(op(Op::kReduce));
  memo_put(key);
}

// save_picklebuffer: in band as bytes / bytearray, or out of band.
void Pickler::save_buffer(const Buffer& b, std::uint64_t key) {
  if (proto_ < 5) throw PicklingError("PickleBuffer can only pickled with protocol >= 5");
  const bool in_band = !options_.buffer_callback || options_.buffer_callback(b);
  if (in_band) {
    if (b.readonly()) return save_bytes_data(b.data(), key);
    return save_bytearray_data(b.data(), key);
  }
  write(op(Op::kNextBuffer));
  if (b.readonly()) write(op(Op::kReadonlyBuffer));
}

// --- containers ------------------------------------------------------------------------

// save_tuple: items first; the tuple is memoized after them, and if an item reached the
// tuple itself (through a list), the items are popped and the memoized tuple fetched.
// String identity after CPython's BUILD (load_build): an instance's attribute names are
// interned, so every equal name is one object, and that object is not the latin-1 singleton
// a loaded one-character str is ('x' as a name and 'x' as a value are two memo entries).
// The keys of a state dict, and of both dicts of a (dict, slots) state, are keyed by their
// text among interned names; everything else in the state is saved as usual.
void Pickler::save_state(const Value& v) {
  const Dict* d = v.get_if<Dict>();
  const Tuple* t = v.get_if<Tuple>();
  if (d == nullptr && (t == nullptr || t->size() != 2)) return save(v);
  frame_boundary();
  if (saved_as_persistent_id(v)) return;
  if (write_get(identity_key(*v.object()))) return;
  if (d != nullptr) return save_dict(*d, true);
  save_tuple(*t, true);
}

void Pickler::save_interned_name(const Value& name) {
  const Str* s = name.get_if<Str>();
  if (s == nullptr) return save(name);
  frame_boundary();
  if (saved_as_persistent_id(name)) return;
  // The same str object used as a value too (one object, as the tour's ComplexDataObject
  // uses one 'nested' for a key and an attribute name, like CPython's interned constants):
  // identity comes first, and the interned name is memoized under both keys.
  const std::uint64_t identity = s->size() > 1 ? identity_key(*s) : 0;
  if (identity != 0 && write_get(identity)) return;
  const std::uint64_t key = named_key("I", s->utf8());
  if (write_get(key)) return;
  save_str_text(s->utf8(), key);
  if (identity != 0) {
    if (const std::int64_t index = memo_.find(key); index >= 0) {
      memo_.insert(identity, static_cast<std::uint32_t>(index));
    }
  }
}

void Pickler::save_tuple(const Tuple& t, bool state) {
  const std::size_t n = t.size();
  if (n == 0) return write(proto_ == 0 ? std::string_view("(t", 2) : std::string_view(")", 1));
  Task finish{.kind = TaskKind::kFinishTuple};
  finish.total = static_cast<std::uint32_t>(n);
  finish.object = &t;
  finish.shared = enter_late_memo(t);
  stack_.push_back(finish);
  if (n > 3 || proto_ < 2) write(op(Op::kMark));
  push_items(t.begin(), t.end(), n, 1, Batching::kNone, 0, 0, state);
}

void Pickler::finish_tuple(const Task& task) {
  late_memo_shared_ -= task.shared ? 1 : 0;
  const std::uint32_t n = task.total;
  const bool short_form = n <= 3 && proto_ >= 2;
  const std::uint64_t key = identity_key(*task.object);
  const std::int64_t index = key == 0 ? -1 : memo_.find(key);
  if (index >= 0) {  // recursive: drop what was pushed, fetch the memoized tuple
    if (short_form) {
      for (std::uint32_t i = 0; i < n; ++i) write(op(Op::kPop));
    } else if (bin_) {
      write(op(Op::kPopMark));
    } else {
      for (std::uint32_t i = 0; i <= n; ++i) write(op(Op::kPop));
    }
    return write_get_index(static_cast<std::uint32_t>(index));
  }
  static constexpr Op kTupleN[] = {Op::kEmptyTuple, Op::kTuple1, Op::kTuple2, Op::kTuple3};
  write(op(short_form ? kTupleN[n] : Op::kTuple));
  memo_put(key);
}

void Pickler::save_list(const List& l) {
  write(proto_ == 0 ? std::string_view("(l", 2) : std::string_view("]", 1));
  memo_put(identity_key(l));
  if (l.empty()) return;
  const Batching b = proto_ == 0 || l.size() == 1 ? Batching::kEach : Batching::kExact;
  push_items(l.begin(), l.end(), l.size(), 1, b, op(Op::kAppend), op(Op::kAppends));
}

void Pickler::save_dict(const Dict& d, bool state) {
  write(proto_ == 0 ? std::string_view("(d", 2) : std::string_view("}", 1));
  memo_put(identity_key(d));
  if (d.empty()) return;
  const Batching b = proto_ == 0 || d.size() == 1 ? Batching::kEach : Batching::kDoWhile;
  const auto [begin, end] = entry_values(d);
  push_items(begin, end, d.size(), 2, b, op(Op::kSetItem), op(Op::kSetItems), state);
}

// save_set / save_frozenset. Protocol 4+: EMPTY_SET + ADDITEMS batches, or MARK items
// FROZENSET. Below: REDUCE of set(list) / frozenset(list) with a temporary list.
void Pickler::save_set(const AnySet& s, bool frozen) {
  const std::uint64_t key = identity_key(s);
  const auto [begin, end] = entry_values(s);
  if (proto_ >= 4) {
    if (frozen) {
      Task finish{.kind = TaskKind::kFinishFrozenSet};
      finish.object = &s;
      finish.shared = enter_late_memo(s);
      stack_.push_back(finish);
      write(op(Op::kMark));
      return push_items(begin, end, s.size(), 1, Batching::kNone, 0, 0);
    }
    write(op(Op::kEmptySet));
    memo_put(key);
    if (s.empty()) return;
    return push_items(begin, end, s.size(), 1, Batching::kDoWhile, 0, op(Op::kAddItems));
  }
  save_class_by_name("builtins", frozen ? "frozenset" : "set");
  frame_boundary();  // save(args)
  if (proto_ < 2) write(op(Op::kMark));
  frame_boundary();  // save(args[0])
  write(proto_ == 0 ? std::string_view("(l", 2) : std::string_view("]", 1));
  memo_put_anonymous();  // the temporary list
  Task finish{.kind = TaskKind::kFinishReduce};
  finish.object = &s;
  finish.shared = enter_late_memo(s);
  stack_.push_back(finish);
  stack_.push_back(Task{.kind = TaskKind::kCloseArgs});
  if (s.empty()) return;
  const Batching b = proto_ == 0 || s.size() == 1 ? Batching::kEach : Batching::kExact;
  push_items(begin, end, s.size(), 1, b, op(Op::kAppend), op(Op::kAppends));
}

void Pickler::finish_frozenset(const Task& task) {
  late_memo_shared_ -= task.shared ? 1 : 0;
  const std::uint64_t key = identity_key(*task.object);
  const std::int64_t index = key == 0 ? -1 : memo_.find(key);
  if (index >= 0) {
    write(op(Op::kPopMark));
    return write_get_index(static_cast<std::uint32_t>(index));
  }
  write(op(Op::kFrozenSet));
  memo_put(key);
}

// --- globals ---------------------------------------------------------------------------

// Saves the class module.qualname (memoized by name), as save_global does for a class.
void Pickler::save_class_by_name(std::string_view module, std::string_view qualname) {
  frame_boundary();
  const std::uint64_t key = named_key("G", module, qualname);
  if (!write_get(key)) save_global(module, qualname, key);
}

// CPython's builtins module has two name objects: the one its types report (interned
// 'builtins') and the one its functions report (the module's __name__).
bool names_builtin_function(std::string_view module, std::string_view qualname) {
  static constexpr std::string_view kLowercaseTypes[] = {
      "bool",   "bytearray", "bytes",     "classmethod", "complex", "dict",  "enumerate",
      "filter", "float",     "frozenset", "int",         "list",    "map",   "memoryview",
      "object", "property",  "range",     "reversed",    "set",     "slice", "staticmethod",
      "str",    "super",     "tuple",     "type",        "zip"};
  if (module != "builtins" || qualname.empty()) return false;
  if (qualname[0] >= 'A' && qualname[0] <= 'Z') return false;  // exception classes, ...
  return std::find(std::begin(kLowercaseTypes), std::end(kLowercaseTypes), qualname) ==
         std::end(kLowercaseTypes);
}

void Pickler::save_module_name(std::string_view module, std::string_view qualname) {
  frame_boundary();
  const std::size_t cps = value::detail::count_code_points(module);
  std::uint64_t key;
  if (cps == 0) {
    key = (std::uint64_t{256} << 4) | kTagChar;
  } else {
    std::size_t pos = 0;
    const char32_t first = value::detail::decode_code_point(module, pos);
    key = cps == 1 && first < 256
              ? (static_cast<std::uint64_t>(first) << 4) | kTagChar
              : named_key(names_builtin_function(module, qualname) ? "MF" : "M", module);
  }
  if (!write_get(key)) save_str_text(module, key);
}

void Pickler::save_global(std::string_view module, std::string_view qualname, std::uint64_t key) {
  if (proto_ >= 4) {
    save_module_name(module, qualname);
    // The class's own __qualname__ object. A Python class's is an interned name (the very
    // object an attribute of that name is, never the latin-1 singleton); a builtin's is
    // made afresh for each look-up, so never shared.
    frame_boundary();
    if (module == "builtins") {
      save_str_text(qualname, 0);
    } else {
      const std::uint64_t name_key = named_key("I", qualname);
      if (!write_get(name_key)) save_str_text(qualname, name_key);
    }
    write(op(Op::kStackGlobal));
    return memo_put(key);
  }
  if (const auto dot = qualname.rfind('.'); dot != std::string_view::npos) {
    // A nested name: getattr(parent, 'last') (protocols < 4 cannot name it directly).
    save_class_by_name("builtins", "getattr");
    if (proto_ < 2) write(op(Op::kMark));
    save_class_by_name(module, qualname.substr(0, dot));
    const std::string_view last = qualname.substr(dot + 1);
    std::uint64_t last_key = 0;
    if (value::detail::count_code_points(last) == 1) {
      std::size_t pos = 0;
      const char32_t first = value::detail::decode_code_point(last, pos);
      if (first < 256) last_key = (static_cast<std::uint64_t>(first) << 4) | kTagChar;
    }
    if (last_key == 0 || !write_get(last_key)) save_str_text(last, last_key);
    write(op(proto_ >= 2 ? Op::kTuple2 : Op::kTuple));
    memo_put_anonymous();
    write(op(Op::kReduce));
    return memo_put(key);
  }
  std::string_view m = module, n = qualname;
  if (proto_ < 3 && options_.fix_imports) {
    std::tie(m, n) = detail::map_python3_name(module, qualname);
  }
  if (proto_ < 3) {
    const auto ascii = [](std::string_view s) {
      return std::all_of(s.begin(), s.end(),
                         [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    };
    if (!ascii(m) || !ascii(n)) {
      throw PicklingError(
          fmt::format("can't pickle global identifier '{}.{}' using pickle protocol {}", module,
                      qualname, proto_));
    }
  }
  write_format("c{}\n{}\n", m, n);
  memo_put(key);
}

// --- objects ---------------------------------------------------------------------------

// CPython's state for a plain object: its __dict__ when non-empty, else nothing to BUILD.
bool Pickler::has_state(const Value* state) {
  if (state == nullptr || state->is_none()) return false;
  const Dict* d = state->get_if<Dict>();
  return d == nullptr || !d->empty();
}

// object.__reduce_ex__: protocol 2+ is copyreg.__newobj__ (cls, ) -> `cls ) NEWOBJ`;
// below it is copyreg._reconstructor(cls, object, None). Then memoize and BUILD.
// The class of an instance: a Global value, or a registered C++ type's name.
void Pickler::save_class(const Value& cls, const TypeRegistration* registration) {
  if (registration == nullptr) return save(cls);
  const std::uint64_t key = named_key("G", registration->module, registration->qualname);
  frame_boundary();
  if (!write_get(key)) save_global(registration->module, registration->qualname, key);
}

void Pickler::save_instance(const Object& obj, const Value& cls, const Value* state,
                            const TypeRegistration* registration) {
  Task finish{.kind = TaskKind::kFinishReduce};
  finish.object = &obj;
  finish.at = has_state(state) ? state : nullptr;
  if (registration == nullptr &&
      !cls.is<Global>()) {  // an unusual class value: save it as any value, on the stack
    if (proto_ < 2)
      throw PicklingError("cannot pickle an instance whose class is no global below protocol 2");
    finish.shared = enter_late_memo(obj);
    stack_.push_back(finish);
    push_write(std::string_view(")\x81", 2));
    return push_save(&cls);
  }
  if (proto_ >= 2) {
    save_class(cls, registration);
    frame_boundary();  // save(()) in CPython
    write(std::string_view(")\x81", 2));
  } else {
    save_class_by_name("copyreg", "_reconstructor");
    write(op(Op::kMark));
    save_class(cls, registration);
    save_class_by_name("builtins", "object");
    write(std::string_view("Nt", 2));
    memo_put_anonymous();
    write(op(Op::kReduce));
  }
  finish_reduce(finish);
}

void Pickler::save_registered(const Object& obj, const TypeRegistration& registration) {
  const Value& state = keep_alive_.emplace_back(registration.reduce(obj));
  save_instance(obj, Value(), &state, &registration);
}

// save_reduce for an inert Reduce: callable, args, REDUCE, then its items and state. As
// CPython's save_reduce, a callable named __newobj__ (copyreg's, what the unpickler makes
// of NEWOBJ with arguments) is written from protocol 2 on as `cls args[1:] NEWOBJ`, and
// one named __newobj_ex__ from protocol 4 on as `cls args kwargs NEWOBJ_EX` (protocols 2-3:
// save_newobj_ex_as_partial).
void Pickler::save_reduce(const Reduce& r) {
  Task finish{.kind = TaskKind::kFinishReduce};
  finish.object = &r;
  finish.shared = enter_late_memo(r);
  finish.at = r.state.is_none() ? nullptr : &r.state;
  stack_.push_back(finish);
  const Global* callable = r.callable.get_if<Global>();
  const Tuple* args = r.args.get_if<Tuple>();
  if (callable != nullptr && args != nullptr && proto_ >= 2) {
    if (callable->name() == "__newobj__" && args->size() >= 1) {
      // CPython saves args[1:], a fresh tuple (memoized, never shared): a temporary here.
      const Value& rest = keep_alive_.emplace_back(Tuple::make(
          value::detail::heap_of(r), std::span<const Value>(args->begin() + 1, args->end())));
      push_write(std::string_view("\x81", 1));
      push_save(&rest);
      push_save(&(*args)[0]);
      return;
    }
    if (callable->name() == "__newobj_ex__" && args->size() == 3 && (*args)[1].is<Tuple>() &&
        (*args)[2].is<Dict>()) {
#if !OURO_BARE_METAL  // no room on a board (docs/embedded.md): there it stays a plain REDUCE
      if (proto_ < 4) return save_newobj_ex_as_partial(*args);
#endif
      push_write(std::string_view("\x92", 1));
      push_save(&(*args)[2], TaskKind::kSaveState);  // keyword names are interned too
      push_save(&(*args)[1]);
      push_save(&(*args)[0]);
      return;
    }
  }
  push_write(std::string_view("R", 1));
#if !OURO_BARE_METAL
  // The catalogue's datetime states carry fold only from protocol 4 on (catalogue.h).
  if (Value unfolded = proto_ < 4 ? detail::datetime_args_without_fold(r) : Value();
      !unfolded.is_none()) {
    push_save(&keep_alive_.emplace_back(std::move(unfolded)));
    return push_save(&r.callable);
  }
#endif
  push_save(&r.args);
  push_save(&r.callable);
}

#if !OURO_BARE_METAL
// Protocols 2 and 3 have no NEWOBJ_EX: CPython's save_reduce writes
// functools.partial(cls.__new__, cls, *args, **kwargs) called with (). The partial pickles
// by its own __reduce__, (partial, (func,), (func, (cls, *args), kwargs or None, None)), and
// cls.__new__ as getattr(cls, '__new__'): the form for a class that defines __new__, which
// a class taking keyword arguments through __getnewargs_ex__ does (one that inherits it
// would name its base there; a loaded value cannot tell). The keyword names stay interned,
// as at protocol 4. Pushed in reverse: the tasks run partial, state, BUILD, (), REDUCE.
void Pickler::save_newobj_ex_as_partial(const Tuple& args) {
  Heap& heap = value::detail::heap_of(args);
  const Tuple& positional = args[1].as<Tuple>();
  const Dict& kwargs = args[2].as<Dict>();
  std::vector<Value> bound{args[0]};
  bound.insert(bound.end(), positional.begin(), positional.end());
  Value keywords;  // partial keeps a copy of the keywords, None when there are none
  if (!kwargs.empty()) {
    Ref<Dict> copy = Dict::make(heap, kwargs.size());
    for (const DictEntry& e : kwargs) copy->set(e.key, e.value);
    keywords = Value(std::move(copy));
  }
  const Global* cls = args[0].get_if<Global>();
  const std::string cls_name =
      cls == nullptr ? std::string() : fmt::format("{}\n{}", cls->module(), cls->qualname());
  const Value*& cached = new_methods_[cls_name];
  if (cached == nullptr || cls == nullptr) {
    cached = &keep_alive_.emplace_back(
        Reduce::make(heap, Global::make(heap, "builtins", "getattr"),
                     Tuple::make(heap, {args[0], Value(Str::make(heap, "__new__"))})));
  }
  const Value& new_method = *cached;
  const Value& partial = keep_alive_.emplace_back(Reduce::make(
      heap, Global::make(heap, "functools", "partial"), Tuple::make(heap, {new_method})));
  const Value& state = keep_alive_.emplace_back(Tuple::make(
      heap,
      {new_method, Value(Tuple::make(heap, std::span<const Value>(bound))), keywords, Value()}));
  const Tuple& items = state.as<Tuple>();
  push_write(std::string_view("R", 1));
  push_write(std::string_view(")", 1));
  push_write(std::string_view("b", 1));
  // The state tuple as save_tuple writes four items (MARK ... TUPLE, memoized), with only
  // the keywords saved as a BUILD state (interned names).
  Task finish{.kind = TaskKind::kFinishTuple};
  finish.total = 4;
  finish.object = &items;
  finish.shared = enter_late_memo(items);
  stack_.push_back(finish);
  push_items(items.begin() + 3, items.end(), 1, 1, Batching::kNone, 0, 0);
  push_items(items.begin() + 2, items.begin() + 3, 1, 1, Batching::kNone, 0, 0, true);
  push_items(items.begin(), items.begin() + 2, 2, 1, Batching::kNone, 0, 0);
  push_write(std::string_view("(", 1));
  push_save(&partial);
}
#endif

void Pickler::finish_reduce(const Task& task) {
  late_memo_shared_ -= task.shared ? 1 : 0;
  const std::uint64_t key = identity_key(*task.object);
  if (const std::int64_t index = key == 0 ? -1 : memo_.find(key); index >= 0) {  // recursive
    write(op(Op::kPop));
    return write_get_index(static_cast<std::uint32_t>(index));
  }
  memo_put(key);
  if (task.at != nullptr) {
    push_write(std::string_view("b", 1));
    push_save(task.at, TaskKind::kSaveState);
  }
  if (task.object->type_id() != reduce_id_) return;
  const auto& r = static_cast<const Reduce&>(*task.object);
  if (const Dict* d = r.dictitems.get_if<Dict>(); d != nullptr && !d->empty()) {
    const Batching b = proto_ == 0 ? Batching::kEach : Batching::kIterator;
    const auto [begin, end] = entry_values(*d);
    push_items(begin, end, d->size(), 2, b, op(Op::kSetItem), op(Op::kSetItems));
  } else if (!r.dictitems.is_none() && d == nullptr) {
    throw PicklingError("dictitems from a Reduce must be a dict");
  }
  if (const List* l = r.listitems.get_if<List>(); l != nullptr && !l->empty()) {
    const Batching b = proto_ == 0 ? Batching::kEach : Batching::kIterator;
    push_items(l->begin(), l->end(), l->size(), 1, b, op(Op::kAppend), op(Op::kAppends));
  } else if (!r.listitems.is_none() && l == nullptr) {
    throw PicklingError("listitems from a Reduce must be a list");
  }
}

}  // namespace

Ref<Buffer> Buffer::make(Heap& heap, Value target) {
  if (target.is<Bytes>()) return make_in<Buffer>(heap, 0, std::move(target), true);
  if (target.is<ByteArray>()) return make_in<Buffer>(heap, 0, std::move(target), false);
  throw TypeError(fmt::format("a bytes-like object is required, not '{}'", target.type_name()));
}

std::span<const std::byte> Buffer::data() const noexcept {
  if (const Bytes* b = target_.get_if<Bytes>()) return b->data();
  if (const ByteArray* a = target_.get_if<ByteArray>()) return a->data();
  return {};
}

namespace {
Heap& pickling_heap(const char* who) {
  Heap* heap = Heap::current();
  if (heap == nullptr) ouro::detail::throw_no_current_heap(who);
  return *heap;
}
}  // namespace

std::string dumps(const Value& value, const DumpOptions& options, ouro::SiteLocation loc) {
  SiteScope site(loc);
  return Pickler(options, pickling_heap("ouro::pickle::dumps()")).dump(value);
}

Ref<Bytes> dumps_bytes(const Value& value, const DumpOptions& options, ouro::SiteLocation loc) {
  SiteScope site(loc);
  return Pickler(options, pickling_heap("ouro::pickle::dumps_bytes()")).dump_bytes(value);
}

#if !OURO_BARE_METAL
void dump(const Value& value, std::ostream& out, const DumpOptions& options) {
  const std::string bytes = dumps(value, options);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
#endif

}  // namespace ouro::pickle
