// The unpickler: executes the opcodes of protocols 0-5 on a stack machine, as CPython's
// Modules/_pickle.c does, but builds only ouro values and never imports or calls anything
// (DESIGN.md I8). Every opcode that would call code in CPython (REDUCE, NEWOBJ, NEWOBJ_EX,
// INST, OBJ, BUILD, EXT*, PERSID, APPENDS/SETITEMS/ADDITEMS on non-built-ins) is decided by
// the policy (policy.h): evaluated when the global is a pure constructor of an ouro value,
// kept as an inert Global/Reduce/Instance when allowed or in inspect mode, refused
// otherwise.
//
// Decoding is OpcodeReader::next_raw's (opcodes.h), the one parser of the instruction set:
// arguments arrive as views into the input, lengths already checked against what remains.
//
// The machine, as in _pickle.c: a value stack and a mark stack; `fence_` is the stack
// height at the innermost mark, and popping below it is "unpickling stack underflow" (or
// "unexpected MARK found" while a mark is set), CPython's own messages.
//
// Bounds (what keeps a hostile input cheap; DESIGN.md I7 and I8):
//   - values are heap objects, so the heap's limit bounds them (MemoryError);
//   - the unpickler's own memory is in the heap too: the stack, marks, memo, the frames of
//     key hashing, the tables of globals and pending instances, and a stream's buffer are
//     standard containers over StdAllocator (ouro/alloc/std_allocator.h), so they count
//     against the same limit as the values, byte for byte (a million DUPs of one small int
//     holds no object, yet cannot outgrow the limit), and MemoryError ends the load;
//   - the memo is dense only up to twice its entry count (plus a small slack); a PUT to a
//     far index goes to a hash map, so "r\xff\xff\xff\x7f" costs one entry, not 2^31;
//   - hashing a key that nests shared tuples/frozensets costs its unfolded size; the total
//     is budgeted against the input size (guard_key), which defeats hash bombs;
//   - on any error everything built is dropped and half-built cycles are collected;
//   - automatic collection is paused while loading (GcPause: nothing built can be garbage
//     before STOP); the heap's pressure collection still runs at the limit.
#include "pickle/unpickler.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#if !OURO_BARE_METAL
#include <istream>
#endif
#include <iterator>
#include <limits>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ouro/alloc/std_allocator.h"
#include "ouro/core/gc.h"
#include "ouro/value/value.h"
#include "pickle/heap_map.h"
#include "pickle/opcodes.h"
#include "pickle/policy.h"
#include "pickle/pydecode.h"
#include "pickle/pyrepr.h"
#include "value/bigint.h"
#if !OURO_BARE_METAL
#include "pickle/stream_read.h"
#endif
#include "value/unicode.h"

namespace ouro::pickle {
namespace detail {
namespace {

namespace vd = ouro::value::detail;

// Work allowed for hashing keys: this many unfolded tuple/frozenset nodes per input byte
// read so far, plus a floor. Legitimate keys cost about their encoded size; a hash bomb (a tuple
// that nests the same tuple twice, 100 levels deep) would cost 2^100.
constexpr std::uint64_t kHashWorkPerByte = 64;
constexpr std::uint64_t kHashWorkFloor = std::uint64_t{1} << 20;
// A PUT may grow the dense memo up to twice its entries plus this slack.
constexpr std::uint64_t kMemoSlack = 1024;

std::string utf8_from_code_points(const std::u32string& text) {
  std::string out;
  out.reserve(text.size());
  std::array<char, vd::kMaxUtf8Length> buf{};
  for (char32_t cp : text) {
    const std::size_t n = vd::encode_code_point(cp, buf);
    out.append(buf.data(), n);
  }
  return out;
}

std::string utf8_from_latin1(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out.push_back(c);
    } else {
      out.push_back(static_cast<char>(0xC0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
  return out;
}

// Python's encoding name normalization for the handful of codecs Python 2 strings use.
std::string normalize_encoding(std::string_view name) {
  std::string n;
  for (char c : name) n.push_back(c == '_' ? '-' : static_cast<char>(std::tolower(c)));
  if (n == "ascii" || n == "us-ascii" || n == "646") return "ascii";
  if (n == "latin1" || n == "latin-1" || n == "iso-8859-1" || n == "iso8859-1" || n == "l1") {
    return "latin1";
  }
  if (n == "utf-8" || n == "utf8") return "utf-8";
  return n;
}

std::string_view as_text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Room for a conversion's output without the system heap: small outputs (nearly all) in
// place, larger ones in the heap, counted against its limit.
template <class T, std::size_t kSmall>
class Scratch {
 public:
  Scratch(StdAllocator<char> alloc, std::size_t size) : large_(alloc), size_(size) {
    if (size > kSmall) large_.resize(size);
  }
  T* data() noexcept { return size_ > kSmall ? large_.data() : small_.data(); }
  std::span<T> span() noexcept { return {data(), size_}; }

 private:
  std::array<T, kSmall> small_;
  HeapVector<T> large_;
  std::size_t size_;
};
using ScratchText = Scratch<char, 64>;

// A canonical decimal of at most 18 digits (and a sign) as an int64.
std::int64_t small_decimal(std::string_view canonical) noexcept {
  std::int64_t n = 0;
  std::from_chars(canonical.data(), canonical.data() + canonical.size(), n);
  return n;
}

// Bytes asked of a stream at once: a hostile length in a header is never trusted for an
// allocation; the buffer grows only with bytes that really arrived.
constexpr std::size_t kStreamPiece = std::size_t{64} << 10;

// The unpickler's value stack, in the heap's memory like its other tables. A vector whose
// push is a store and an increment: std::vector's emplace_back stayed out of line in the
// big execute switch (25 instructions a push, 16% of loading a list of ints).
class ValueStack {
 public:
  explicit ValueStack(StdAllocator<Value> alloc) noexcept : alloc_(alloc) {}
  ValueStack(const ValueStack&) = delete;
  ValueStack& operator=(const ValueStack&) = delete;
  ~ValueStack() {
    clear();
    if (data_ != nullptr) alloc_.deallocate(data_, capacity_);
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  Value* data() noexcept { return data_; }
  const Value* data() const noexcept { return data_; }
  Value& operator[](std::size_t i) noexcept { return data_[i]; }
  Value& back() noexcept { return data_[size_ - 1]; }

  [[gnu::always_inline]] void push_back(Value v) {
    if (size_ == capacity_) [[unlikely]]
      grow();
    new (data_ + size_) Value(std::move(v));
    ++size_;
  }
  void pop_back() noexcept { data_[--size_].~Value(); }
  // Drops the entries from `k` on (top first, as popping would).
  void truncate(std::size_t k) noexcept {
    while (size_ > k) pop_back();
  }
  void clear() noexcept { truncate(0); }

 private:
  [[gnu::noinline]] void grow() {
    const std::size_t capacity = 2 * capacity_ + 64;
    Value* bigger = alloc_.allocate(capacity);  // MemoryError at the heap's limit
    for (std::size_t i = 0; i < size_; ++i) {
      new (bigger + i) Value(std::move(data_[i]));
      data_[i].~Value();
    }
    if (data_ != nullptr) alloc_.deallocate(data_, capacity_);
    data_ = bigger;
    capacity_ = capacity;
  }

  StdAllocator<Value> alloc_;
  Value* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

class Unpickler {
 public:
  Unpickler(Heap& heap, std::span<const std::byte> data, const LoadOptions& options, Build build,
            LoadError* report_to)
      : heap_(heap),
        data_(data),
        options_(options),
        reader_(data),
        report_to_(report_to),
        lean_(build == Build::kForScan) {
    reader_.report_faults();
  }
  // Reads from `in` as it goes (load(istream)): see fetch_instruction.
#if !OURO_BARE_METAL  // no streams on bare metal (docs/embedded.md)
  Unpickler(Heap& heap, std::istream& in, const LoadOptions& options)
      : heap_(heap), options_(options), reader_(data_), stream_(in.rdbuf()), stream_owner_(&in) {
    reader_.report_faults();
  }
#endif

  Value run(std::size_t* consumed);

 private:
  // --- errors ------------------------------------------------------------------------
  // Two ways to fail. report() is the unpickler's own finding: with a LoadError to report
  // to (try_loads) it is recorded there without allocating and the reader is stopped, so
  // run()'s loop ends at its next read (no check per instruction); otherwise (loads) it
  // throws UnpicklingError at once. So after report() the caller returns without touching
  // the machine. fail() always throws: the errors found deep in building values.
  void report_formatted(std::string_view python_type, fmt::string_view format,
                        fmt::format_args args);
  template <class... Args>
  void report(std::string_view python_type, fmt::format_string<Args...> format, Args&&... args) {
    report_formatted(python_type, format, fmt::make_format_args(args...));
  }
  static constexpr std::string_view kUnpicklingError = "UnpicklingError";
  void truncated() { report(kUnpicklingError, "pickle data was truncated"); }
  [[gnu::noinline]] void underflow() {
    report(kUnpicklingError, "{}",
           marks_.empty() ? "unpickling stack underflow" : "unexpected MARK found");
  }
  // True when the stack holds `n` items above the innermost mark; else reports underflow.
  [[gnu::always_inline]] bool has_items(std::size_t n) {
    if (OURO_LIKELY(stack_.size() >= fence_ + n)) return true;
    underflow();
    return false;
  }
  [[noreturn]] void fail(std::string python_type, std::string message) const {
    throw UnpicklingError(std::move(python_type), std::move(message),
                          static_cast<std::int64_t>(offset_),
                          op_ == nullptr ? std::string() : std::string(op_->name));
  }
  [[noreturn]] void fail(std::string message) const { fail("UnpicklingError", std::move(message)); }
  [[noreturn]] void refuse(std::string what) const {
    fail(what + " is not allowed by the unpickling policy (nothing is executed)");
  }
  void release_all() noexcept;
  void report_read_fault();

  // --- reading a stream ----------------------------------------------------------------
  void fetch_instruction();
  void read_until(std::size_t end);
  void read_line_from(std::size_t from);
  void refresh_view();

  // --- the machine -------------------------------------------------------------------
  void execute(const RawInstruction& ins);
  // Inlined: the execute switch is past the inliner's budget, and this is most opcodes' work.
  [[gnu::always_inline]] void push(Value v) { stack_.push_back(std::move(v)); }
  // The heap's allocator for the containers below (converts to any StdAllocator<T>).
  StdAllocator<char> alloc() const noexcept { return StdAllocator<char>(heap_.allocator()); }
  // Callers check has_items first.
  Value pop() {
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  // Pops the innermost mark and returns the stack height it recorded; without a mark,
  // reports and returns kNoMark (the caller returns).
  static constexpr std::size_t kNoMark = static_cast<std::size_t>(-1);
  std::size_t marker() {
    if (OURO_UNLIKELY(marks_.empty())) {
      report(kUnpicklingError, "could not find MARK");
      return kNoMark;
    }
    const std::size_t k = marks_.back();
    marks_.pop_back();
    fence_ = marks_.empty() ? 0 : marks_.back();
    return k;
  }
  std::span<const Value> items_from(std::size_t k) const {
    return {stack_.data() + k, stack_.size() - k};
  }
  void truncate(std::size_t k) { stack_.truncate(k); }

  // --- memo ----------------------------------------------------------------------------
  void memo_put(std::uint64_t index, const Value& v);
  const Value* memo_get(std::uint64_t index) const;
  static constexpr std::uint64_t kNoIndex = static_cast<std::uint64_t>(-1);
  std::uint64_t memo_index_text(std::string_view text);

  // --- values --------------------------------------------------------------------------
  Value make_str(std::string_view utf8);
  Value make_bytes(std::string_view b) {
    if (lean_)
      return placeholder(placeholder_bytes_, [&] { return Value(Bytes::make(heap_, {})); });
    return Value(Bytes::make(heap_, as_bytes(b)));
  }
  Value make_float(double x) {
    if (lean_)
      return placeholder(placeholder_float_, [&] { return Value(Float::make(heap_, 0.0)); });
    return Value(Float::make(heap_, x));
  }
  // Build::kForScan's stand-in for values whose content cannot name a global: one per type,
  // made on first use, so that type-dependent errors stay the same.
  template <class Make>
  Value placeholder(Value& slot, Make make) {
    if (slot.is_none()) slot = make();
    return slot;
  }
  Value make_int_text(std::string_view canonical);
  Value make_int_bytes(std::span<const std::byte> bytes);
  void push_decimal(std::string_view text, std::string_view shown, bool long_form);
  Value decode_python2_string(std::string_view bytes);
  Value empty_tuple();
  Value make_tuple(std::span<const Value> items) {
    if (items.empty()) return empty_tuple();
    return Value(Tuple::make(heap_, items));
  }
  // Hashing a leaf is O(1) or cached: only tuple and frozenset keys are budgeted. Inline,
  // comparing type ids directly: this runs for every dict key loaded.
  [[nodiscard]] bool guard_key(const Value& key) {  // false: reported (the caller returns)
    const Object* object = key.object();
    if (object == nullptr ||
        (object->type_id() != tuple_type_ && object->type_id() != frozenset_type_)) {
      return true;
    }
    return guard_composite_key(key);
  }
  [[nodiscard]] bool guard_composite_key(const Value& key);
  std::uint64_t key_cost(const Value& key);

  // --- globals and calls ---------------------------------------------------------------
  Value find_class(std::string_view module, std::string_view name);
  GlobalKind kind_of(const Value& v) const;
  Value call(const Value& callable, const Value& args);
  Value new_object(const Value& cls, const Value& args, const Value& kwargs, bool ex);
  Value instantiate(const Value& cls, const Value& args);
  Value inert_call(const Value& callable, const Value& args);
  Value new_instance(const Value& cls);
  void replace_pending(const Value& old_value, const Value& new_value);
  Reduce* promote_to_reduce(std::size_t i);
  Value global_value(std::string_view module, std::string_view name);
  void build(const Value& state);
  void intern_names(const Value& state);
  void extend_target(std::size_t from);
  void set_items(std::size_t x);
  void add_items(std::size_t mark);
  Value persistent_load(Value pid);

  Heap& heap_;
  std::span<const std::byte> data_;  // the input, or the stream bytes held in buffer_
  const LoadOptions& options_;
  OpcodeReader reader_;  // reads data_; its positions are relative to base_
  // Stream input (load(istream)): the bytes of the current instruction (or of the current
  // frame, read whole at FRAME as CPython does) are in buffer_, which starts at absolute
  // offset base_; what is consumed is dropped when more must be read.
  std::streambuf* stream_ = nullptr;
  std::istream* stream_owner_ = nullptr;  // gets eofbit when the stream ends
  HeapString buffer_{alloc()};
  std::size_t base_ = 0;  // absolute offset of data_[0]
  bool stream_ended_ = false;

  ValueStack stack_{alloc()};
  HeapVector<std::size_t> marks_{alloc()};  // stack heights at each MARK, innermost last
  std::size_t fence_ = 0;                   // stack height at the innermost mark (0: none)
  HeapVector<Value> memo_{alloc()};         // dense part: empty-marker where no entry
  HeapMap<std::uint64_t, Value> sparse_memo_{alloc()};  // indices beyond the dense rule
  std::uint64_t memo_count_ = 0;                        // entries (MEMOIZE's next index)

  int proto_ = 0;
  std::size_t offset_ = 0;          // offset of the instruction executing
  const OpcodeInfo* op_ = nullptr;  // the instruction executing
  LoadError* report_to_ = nullptr;  // try_loads: report() records here instead of throwing
  bool failed_ = false;             // report() recorded an error: the loop stops
  std::uint64_t frame_end_ = 0;     // end of the current frame (0: none)
  std::size_t next_buffer_ = 0;     // NEXT_BUFFER's index into options_.buffers

  Value empty_tuple_;                                      // shared (), as in CPython
  HeapMap<const Object*, GlobalKind> kinds_{alloc()};      // Globals made here
  mutable const Object* last_global_ = nullptr;            // kind_of's cache (alive: in
  mutable GlobalKind last_kind_ = GlobalKind::kUnknown;    // globals_ until release_all)
  HeapMap<HeapString, Value, TextHash> globals_{alloc()};  // "module\nname" -> Global
  // Instances of registered C++ types waiting for BUILD, and the memo slots holding them.
  HeapMap<const Object*, HeapVector<std::uint64_t>> pending_{alloc()};
  // Unfolded sizes of key tuples/frozensets seen (kept alive so addresses stay valid).
  HeapMap<const Object*, std::pair<Value, std::uint64_t>> key_costs_{alloc()};
  // BUILD's interned attribute names: loaded str key -> (that key, its interned copy).
  HeapMap<const Object*, std::pair<Value, Value>> interned_{alloc()};
  const bool lean_ = false;  // Build::kForScan: see unpickler.h
  // guard_key's test, without a type-id lookup per key.
  const std::uint16_t tuple_type_ = ouro::detail::value_type_id<Tuple>();
  const std::uint16_t frozenset_type_ = ouro::detail::value_type_id<FrozenSet>();
  Value placeholder_float_, placeholder_bytes_, placeholder_bytearray_;
  std::uint64_t hash_work_ = 0;
  std::uint64_t hash_budget_ = kHashWorkFloor;  // set by guard_key from the bytes read
};

void Unpickler::release_all() noexcept {
  buffer_.clear();
  stack_.clear();
  marks_.clear();
  memo_.clear();
  sparse_memo_.clear();
  pending_.clear();
  key_costs_.clear();
  globals_.clear();
  kinds_.clear();
  last_global_ = nullptr;
  empty_tuple_ = Value();
  placeholder_float_ = placeholder_bytes_ = placeholder_bytearray_ = Value();
}

void Unpickler::report_formatted(std::string_view python_type, fmt::string_view format,
                                 fmt::format_args args) {
  const std::string_view opcode = op_ == nullptr ? std::string_view() : op_->name;
  if (report_to_ == nullptr) {
    throw UnpicklingError(std::string(python_type), fmt::vformat(format, args),
                          static_cast<std::int64_t>(offset_), std::string(opcode));
  }
  if (failed_) return;  // the first finding is the one reported
  failed_ = true;
  // Stop reading: a reader of nothing reports the end, so the loop ends at its next read.
  reader_ = OpcodeReader({});
  reader_.report_faults();
  std::array<char, LoadError::kMessageCapacity + 1> text;  // one more: LoadError sees a cut
  const auto written = fmt::vformat_to_n(text.data(), text.size(), format, args);
  report_to_->set(python_type, std::string_view(text.data(), std::min(written.size, text.size())),
                  static_cast<std::int64_t>(offset_), opcode);
}

void Unpickler::memo_put(std::uint64_t index, const Value& v) {
  if (index == memo_.size()) {  // MEMOIZE, and PUTs numbered as the pickler numbers them
    memo_.push_back(v);
    ++memo_count_;
  } else if (index < memo_.size()) {
    if (ValueAccess::is_empty(memo_[index])) ++memo_count_;
    memo_[index] = v;
  } else if (index <= 2 * memo_count_ + kMemoSlack) {
    memo_.resize(static_cast<std::size_t>(index) + 1, ValueAccess::empty());
    memo_[index] = v;
    ++memo_count_;
  } else {
    auto [it, inserted] = sparse_memo_.try_emplace(index, v);
    if (inserted) {
      ++memo_count_;
    } else {
      it->second = v;
    }
  }
  if (!pending_.empty()) {
    auto it = pending_.find(v.object());
    if (it != pending_.end()) it->second.push_back(index);
  }
}

const Value* Unpickler::memo_get(std::uint64_t index) const {
  if (index < memo_.size()) {
    const Value& v = memo_[index];
    return ValueAccess::is_empty(v) ? nullptr : &v;
  }
  auto it = sparse_memo_.find(index);
  return it == sparse_memo_.end() ? nullptr : &it->second;
}

// GET/PUT's decimal argument, as _pickle.c reads it (int(text), then a C ssize_t); kNoIndex
// after reporting an error.
std::uint64_t Unpickler::memo_index_text(std::string_view text) {
  if (text.empty()) {
    truncated();
    return kNoIndex;
  }
  ScratchText canonical(alloc(), text.size() + 1);
  const IntText parsed = parse_python_int(text, canonical.data());
  if (parsed.status != IntText::kValid) {
    report("ValueError", "invalid literal for int() with base 10: '{}\\n'", text);
    return kNoIndex;
  }
  if (parsed.size > 18) {
    report("OverflowError", "Python int too large to convert to C ssize_t");
    return kNoIndex;
  }
  const std::int64_t n = small_decimal({canonical.data(), parsed.size});
  if (n < 0) {
    if (op_->code == Op::kPut) {
      report("ValueError", "negative PUT argument");
    } else {
      report(kUnpicklingError, "Memo value not found at index {}", n);
    }
    return kNoIndex;
  }
  return static_cast<std::uint64_t>(n);
}

// A str from UTF-8 that may encode surrogates; invalid text gets CPython's exact
// UnicodeDecodeError message from the 'utf-8'/'surrogatepass' decoder of pydecode.
Value Unpickler::make_str(std::string_view utf8) {
  const vd::Utf8Scan scan = vd::scan_utf8(utf8);
  if (!scan.valid) {
    try {
      (void)detail::decode_utf8_surrogatepass(utf8);
    } catch (const OpcodeError& e) {
      fail(e.python_type(), e.what());
    }
    return Value(Str::make(heap_, utf8));  // throws the value layer's UnicodeDecodeError
  }
  return Value(Str::make_valid(heap_, utf8, scan.code_points));
}

Value Unpickler::make_int_text(std::string_view canonical) {
  if (canonical.size() <= 18) return Value(small_decimal(canonical));
  if (lean_) return Value(0);
  // Int::from_decimal, with the limbs in the heap.
  Scratch<vd::Limb, 8> limbs(alloc(), vd::decimal_limbs(canonical));
  const std::optional<vd::LimbsResult> r = vd::from_decimal(canonical, limbs.span());
  return Int::from_limbs(heap_, limbs.span().first(r->size), r->negative);
}

// LONG1/LONG4's two's complement bytes: Int::from_bytes, with the limbs in the heap.
Value Unpickler::make_int_bytes(std::span<const std::byte> bytes) {
  if (lean_) return Value(0);
  Scratch<vd::Limb, 8> limbs(alloc(), vd::twos_complement_limbs(bytes.size()));
  const vd::LimbsResult r = vd::from_twos_complement(bytes, limbs.span());
  return Int::from_limbs(heap_, limbs.span().first(r.size), r.negative);
}

// INT and LONG's decimal line as a value; nothing pushed after reporting an error.
// `shown` is the text the invalid-literal message quotes.
void Unpickler::push_decimal(std::string_view text, std::string_view shown, bool long_form) {
  ScratchText canonical(alloc(), text.size() + 1);
  const IntText parsed = parse_python_int(text, canonical.data());
  if (OURO_LIKELY(parsed.status == IntText::kValid)) {
    push(make_int_text({canonical.data(), parsed.size}));
  } else if (!long_form) {
    report("ValueError", "could not convert string to int");
  } else if (parsed.status == IntText::kTooManyDigits) {
    const std::size_t limit = kIntMaxStrDigits;
    report_formatted("ValueError", kIntDigitsLimitFormat,
                     fmt::make_format_args(limit, parsed.digits));
  } else {
    report("ValueError", "invalid literal for int() with base 10: '{}\\n'", shown);
  }
}

Value Unpickler::empty_tuple() {
  if (empty_tuple_.is_none()) empty_tuple_ = Value(Tuple::make(heap_, std::span<const Value>()));
  return empty_tuple_;
}

// Unpickler(encoding=..., errors=...) applied to a Python 2 str (STRING, BINSTRING,
// SHORT_BINSTRING).
Value Unpickler::decode_python2_string(std::string_view bytes) {
  if (options_.encoding == "bytes") return make_bytes(bytes);
  const std::string encoding = normalize_encoding(options_.encoding);
  const std::string& errors = options_.errors;
  if (encoding == "latin1") return make_str(utf8_from_latin1(bytes));
  if (encoding == "utf-8" && errors == "strict") return make_str(bytes);
  if (encoding == "ascii") {
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const auto b = static_cast<unsigned char>(bytes[i]);
      if (b < 0x80) {
        out.push_back(static_cast<char>(b));
      } else if (errors == "strict") {
        fail("UnicodeDecodeError",
             fmt::format("'ascii' codec can't decode byte 0x{:02x} in position {}: ordinal "
                         "not in range(128)",
                         b, i));
      } else if (errors == "replace") {
        out += "\xef\xbf\xbd";
      } else if (errors == "surrogateescape") {
        const std::u32string cp(1, static_cast<char32_t>(0xDC00 + b));
        out += utf8_from_code_points(cp);
      } else if (errors != "ignore") {
        fail("LookupError", fmt::format("unknown error handler name '{}'", errors));
      }
    }
    return make_str(out);
  }
  if (encoding == "utf-8") {
    fail("LookupError", fmt::format("error handler '{}' is not supported for utf-8 here", errors));
  }
  fail("LookupError", fmt::format("unknown encoding: {}", options_.encoding));
}

// Unfolded size of a key: 1 for a leaf, 1 + the children's for a tuple or frozenset,
// computed once per object (post-order, iterative: keys may nest deeply).
std::uint64_t Unpickler::key_cost(const Value& key) {
  const auto composite = [](const Value& v) { return v.is<Tuple>() || v.is<FrozenSet>(); };
  if (!composite(key)) return 1;
  if (auto it = key_costs_.find(key.object()); it != key_costs_.end()) return it->second.second;
  struct Frame {
    Value node;
    HeapVector<Value> children;
    std::size_t next = 0;
    std::uint64_t total = 1;
  };
  const auto children_of = [this](const Value& v) {
    HeapVector<Value> out{alloc()};
    if (const Tuple* t = v.get_if<Tuple>()) {
      out.assign(t->begin(), t->end());
    } else if (const FrozenSet* f = v.get_if<FrozenSet>()) {
      for (const SetEntry& e : *f) out.push_back(e.key);
    }
    return out;
  };
  HeapVector<Frame> frames{alloc()};
  frames.push_back({key, children_of(key)});
  std::uint64_t result = 0;
  while (!frames.empty()) {
    Frame& f = frames.back();
    if (f.next == f.children.size()) {
      const std::uint64_t total = std::min(f.total, hash_budget_ + 1);
      key_costs_.emplace(f.node.object(), std::make_pair(f.node, total));
      frames.pop_back();
      if (frames.empty()) {
        result = total;
      } else {
        frames.back().total = std::min(frames.back().total + total, hash_budget_ + 1);
      }
      continue;
    }
    const Value child = f.children[f.next++];
    if (!composite(child)) {
      ++f.total;
    } else if (auto it = key_costs_.find(child.object()); it != key_costs_.end()) {
      f.total = std::min(f.total + it->second.second, hash_budget_ + 1);
    } else if (frames.size() > recursion_limit()) {
      report("RecursionError", "maximum recursion depth exceeded while calling a Python object");
      return hash_budget_ + 1;
    } else {
      frames.push_back({child, children_of(child)});
    }
  }
  return result;
}

bool Unpickler::guard_composite_key(const Value& key) {
  // The budget grows with the bytes read so far (a key is hashed after its bytes), so that
  // loads and a stream's load decide alike, whatever follows in the input.
  hash_budget_ = kHashWorkFloor + kHashWorkPerByte * (base_ + reader_.position());
  hash_work_ += key_cost(key);
  if (OURO_UNLIKELY(hash_work_ > hash_budget_)) {
    report(kUnpicklingError,
           "hashing the keys would visit more than {} nested items (a pickle that "
           "shares tuples or frozensets inside keys: hash bomb)",
           hash_budget_);
    return false;
  }
  return !failed_;
}

// --- globals -------------------------------------------------------------------------

Value Unpickler::global_value(std::string_view module, std::string_view name) {
  HeapString key{alloc()};
  key.reserve(module.size() + name.size() + 1);
  key.append(module).push_back('\n');
  key.append(name);
  if (auto it = globals_.find(key); it != globals_.end()) return it->second;
  Value g(Global::make(heap_, module, name));
  globals_.emplace(std::move(key), g);
  return g;
}

// Unpickler.find_class, without importing: the Python 2 mapping, then the policy.
Value Unpickler::find_class(std::string_view module, std::string_view name) {
  std::pair<std::string_view, std::string_view> mapped{module, name};
  if (proto_ < 3 && options_.fix_imports) mapped = map_python2_name(module, name);
  const GlobalKind kind = classify_global(mapped.first, mapped.second, options_);
  const bool allowed = kind != GlobalKind::kUnknown;
  if (options_.on_global) {
    options_.on_global(mapped.first, mapped.second, static_cast<std::int64_t>(offset_), allowed);
  }
  if (!allowed && options_.policy == Policy::kStrict) {
    report(kUnpicklingError,
           "global '{}.{}' is not allowed by the unpickling policy (nothing is executed)",
           mapped.first, mapped.second);
    return Value();
  }
  Value g = global_value(mapped.first, mapped.second);
  kinds_.emplace(g.object(), kind);
  return g;
}

GlobalKind Unpickler::kind_of(const Value& v) const {
  const Global* g = v.get_if<Global>();
  if (g == nullptr) return GlobalKind::kUnknown;
  // One-entry cache: a pickle of many objects asks about the same class again and again.
  if (g == last_global_) return last_kind_;
  auto it = kinds_.find(g);
  if (it == kinds_.end()) return classify_global(g->module(), g->qualname(), options_);
  // Only Globals made here are cached: globals_ keeps them alive, so the address stays theirs.
  last_global_ = g;
  last_kind_ = it->second;
  return last_kind_;
}

Value Unpickler::inert_call(const Value& callable, const Value& args) {
  return Value(Reduce::make(heap_, callable, args));
}

// A plain instance (object.__new__(cls)). Until its BUILD it is "pending": the memo slots
// that hold it are recorded, so that it can still be replaced everywhere — by a registered
// type's restore(state), or by an inert Reduce when SETITEMS/APPENDS show that the class
// is a dict or list subclass (CPython would call its __setitem__/extend).
Value Unpickler::new_instance(const Value& cls) {
  Value inst(Instance::make(heap_, cls));
  pending_.try_emplace(inst.object(), alloc());
  return inst;
}

void Unpickler::replace_pending(const Value& old_value, const Value& new_value) {
  auto pending = pending_.find(old_value.object());
  if (pending == pending_.end()) return;
  const HeapVector<std::uint64_t> slots = std::move(pending->second);
  pending_.erase(pending);
  for (std::uint64_t index : slots) {
    if (const Value* held = memo_get(index); held != nullptr && held->is_same(old_value)) {
      memo_put(index, new_value);
    }
  }
}

// stack_[i], an Instance made by NEWOBJ, becomes copyreg.__newobj__(cls) as an inert Reduce
// (keeping its state) so that list or dict items can be kept with it.
Reduce* Unpickler::promote_to_reduce(std::size_t i) {
  Value old_value = stack_[i];
  const Instance& inst = old_value.as<Instance>();
  if (!pending_.contains(&inst)) return nullptr;
  const std::array<Value, 1> cls{inst.cls()};
  Value r = inert_call(global_value("copyreg", "__newobj__"), make_tuple(cls));
  r.as<Reduce>().state = inst.state();
  replace_pending(old_value, r);
  stack_[i] = r;
  return &r.as<Reduce>();
}

// The items of an iterable argument of set(), list(), ... when it is a built-in container.
bool iterable_items(const Value& v, HeapVector<Value>& out) {
  if (const List* l = v.get_if<List>()) {
    out.assign(l->begin(), l->end());
  } else if (const Tuple* t = v.get_if<Tuple>()) {
    out.assign(t->begin(), t->end());
  } else if (const AnySet* s =
                 v.is<Set>() || v.is<FrozenSet>() ? static_cast<AnySet*>(v.object()) : nullptr) {
    for (const SetEntry& e : *s) out.push_back(e.key);
  } else if (const Dict* d = v.get_if<Dict>()) {
    for (const DictEntry& e : *d) out.push_back(e.key);
  } else {
    return false;
  }
  return true;
}

// callable(*args) for REDUCE (and INST/OBJ with arguments). Only the pure constructors of
// the allow-list are evaluated; everything else becomes an inert Reduce.
Value Unpickler::call(const Value& callable, const Value& args) {
  const Tuple* t = args.get_if<Tuple>();
  if (!callable.is<Global>()) {
    if (!callable.is<Reduce>() && !callable.is<Instance>()) {
      fail("TypeError", fmt::format("'{}' object is not callable", callable.type_name()));
    }
    if (options_.policy == Policy::kStrict)
      refuse(fmt::format("calling a {}", callable.type_name()));
    return inert_call(callable, args);
  }
  if (t == nullptr) fail("TypeError", "argument list must be a tuple");
  const std::span<const Value> a = t->items_span();
  HeapVector<Value> items{alloc()};
  switch (kind_of(callable)) {
    case GlobalKind::kSet:
    case GlobalKind::kFrozenSet: {
      const bool frozen = kind_of(callable) == GlobalKind::kFrozenSet;
      if (a.size() > 1 || (a.size() == 1 && !iterable_items(a[0], items))) break;
      for (const Value& item : items) {
        if (!guard_key(item)) return Value();
      }
      if (frozen) return Value(FrozenSet::make(heap_, items));
      Ref<Set> s = Set::make(heap_);
      for (Value& item : items) s->add(std::move(item));
      return Value(std::move(s));
    }
    case GlobalKind::kList:
      if (a.size() > 1 || (a.size() == 1 && !iterable_items(a[0], items))) break;
      return Value(List::make(heap_, items));
    case GlobalKind::kTuple:
      if (a.size() > 1 || (a.size() == 1 && !iterable_items(a[0], items))) break;
      return make_tuple(items);
    case GlobalKind::kDict: {
      if (a.empty()) return Value(Dict::make(heap_));
      if (a.size() != 1) break;
      Ref<Dict> d = Dict::make(heap_);
      if (const Dict* src = a[0].get_if<Dict>()) {
        for (const DictEntry& e : *src) d->set(e.key, e.value);
        return Value(std::move(d));
      }
      if (!iterable_items(a[0], items) || a[0].is<Dict>()) break;
      for (const Value& pair : items) {
        const Tuple* p = pair.get_if<Tuple>();
        if (p == nullptr || p->size() != 2) return inert_call(callable, args);
        if (!guard_key((*p)[0])) return Value();
        d->set((*p)[0], (*p)[1]);
      }
      return Value(std::move(d));
    }
    case GlobalKind::kBytes:
      if (a.empty()) return make_bytes({});
      if (a.size() == 1 && a[0].is<Bytes>()) return a[0];
      break;
    case GlobalKind::kByteArray:
    case GlobalKind::kCodecsEncode: {
      const bool bytearray = kind_of(callable) == GlobalKind::kByteArray;
      HeapString raw{alloc()};
      if (bytearray && a.empty()) {
        // bytearray()
      } else if (bytearray && a.size() == 1 && a[0].is<Bytes>()) {
        raw = as_text(a[0].as<Bytes>().data());
      } else if (a.size() == 2 && a[0].is<Str>() && a[1].is<Str>() &&
                 normalize_encoding(a[1].as<std::string_view>()) == "latin1") {
        // str.encode('latin1'): every code point must be below 256.
        const std::string_view text = a[0].as<std::string_view>();
        std::size_t pos = 0;
        while (pos < text.size()) {
          const char32_t cp = vd::decode_code_point(text, pos);
          if (cp > 0xFF) return inert_call(callable, args);
          raw.push_back(static_cast<char>(cp));
        }
      } else {
        break;
      }
      if (bytearray) return Value(ByteArray::make(heap_, as_bytes(raw)));
      return make_bytes(raw);
    }
    case GlobalKind::kReconstructor:
      // copyreg._reconstructor(cls, object, None) is object.__new__(cls): a plain instance.
      if (a.size() == 3 && a[0].is<Global>() && a[2].is_none()) {
        const Global* base = a[1].get_if<Global>();
        if (base != nullptr && base->module() == "builtins" && base->qualname() == "object") {
          return new_instance(a[0]);
        }
      }
      break;
    case GlobalKind::kNewObj:
      if (a.empty()) break;
      return new_object(a[0], make_tuple(a.subspan(1)), Value(), false);
    case GlobalKind::kNewObjEx:
      if (a.size() != 3) break;
      return new_object(a[0], a[1], a[2], true);
    default:
      break;
  }
  return inert_call(callable, args);
}

// cls.__new__(cls, *args, **kwargs) for NEWOBJ and NEWOBJ_EX.
Value Unpickler::new_object(const Value& cls, const Value& args, const Value& kwargs, bool ex) {
  const std::string_view name = ex ? "NEWOBJ_EX" : "NEWOBJ";
  if (!cls.is<Global>()) {
    if ((cls.is<Reduce>() || cls.is<Instance>()) && options_.policy == Policy::kInspect) {
      // fall through to the inert form below
    } else {
      fail(fmt::format("{} class argument must be a type, not {}", name, cls.type_name()));
    }
  }
  const Tuple* t = args.get_if<Tuple>();
  if (t == nullptr) {
    fail(fmt::format("{} args argument must be a tuple, not {}", name, args.type_name()));
  }
  if (ex && !kwargs.is<Dict>()) {
    fail(fmt::format("{} kwargs argument must be a dict, not {}", name, kwargs.type_name()));
  }
  const bool no_kwargs = !ex || kwargs.as<Dict>().empty();
  switch (kind_of(cls)) {
    case GlobalKind::kSet:
      return Value(Set::make(heap_));
    case GlobalKind::kList:
      return Value(List::make(heap_));
    case GlobalKind::kDict:
      return Value(Dict::make(heap_));
    case GlobalKind::kByteArray:
      return Value(ByteArray::make(heap_, {}));
    case GlobalKind::kTuple:
    case GlobalKind::kFrozenSet:
    case GlobalKind::kBytes:
      if (no_kwargs) return call(cls, args);
      break;
    default:
      if (no_kwargs && t->size() == 0 && cls.is<Global>()) return new_instance(cls);
      break;
  }
  // An inert call of copyreg.__newobj__(cls, *args) / __newobj_ex__(cls, args, kwargs):
  // what CPython's pickler writes back as NEWOBJ / NEWOBJ_EX.
  if (no_kwargs) {
    HeapVector<Value> all{alloc()};
    all.reserve(t->size() + 1);
    all.push_back(cls);
    all.insert(all.end(), t->begin(), t->end());
    return inert_call(global_value("copyreg", "__newobj__"), make_tuple(all));
  }
  const std::array<Value, 3> parts{cls, args, kwargs};
  return inert_call(global_value("copyreg", "__newobj_ex__"), make_tuple(parts));
}

// pickle's _instantiate for INST and OBJ: a plain instance without arguments, else a call.
Value Unpickler::instantiate(const Value& cls, const Value& args) {
  if (cls.is<Global>() && args.as<Tuple>().size() == 0) {
    switch (kind_of(cls)) {
      case GlobalKind::kUnknown:
      case GlobalKind::kCallerAllowed:
      case GlobalKind::kRegistered:
      case GlobalKind::kInert:
        return new_instance(cls);
      default:
        break;
    }
  }
  return call(cls, args);
}

// BUILD interns the str keys of a dict state (CPython's load_build; setattr does the same
// for the slots of a (dict, slots) state): an attribute name is then another object than an
// equal str loaded as a value, which decides what a later dumps shares by identity
// (pickler.cpp, save_interned_name). One interned copy per loaded key object. The keys are
// replaced in place: an equal str has the same hash, so the table stays valid.
void Unpickler::intern_names(const Value& state) {
  auto intern_keys = [&](const Value& part) {
    const Dict* d = part.get_if<Dict>();
    if (d == nullptr) return;
    for (const DictEntry& e : *d) {
      const Str* key = e.key.get_if<Str>();
      if (key == nullptr || key->size() < 2) continue;  // one-character names: singletons
      auto found = interned_.find(key);
      if (found == interned_.end()) {
        Value copy(Str::make(heap_, key->utf8()));
        found = interned_.emplace(key, std::pair<Value, Value>(e.key, std::move(copy))).first;
      }
      const_cast<Value&>(e.key) = found->second.second;
    }
  };
  if (const Tuple* t = state.get_if<Tuple>(); t != nullptr && t->size() == 2) {
    intern_keys((*t)[0]);
    intern_keys((*t)[1]);
  } else {
    intern_keys(state);
  }
}

// BUILD: inst.__setstate__(state) or inst.__dict__.update(state), on ouro's inert types.
void Unpickler::build(const Value& state) {
  Value& inst = stack_.back();
  if (Instance* obj = inst.get_if<Instance>()) {
    if (kind_of(obj->cls()) == GlobalKind::kRegistered) {
      const Global& cls = obj->cls().as<Global>();
      const TypeRegistration* reg = find_registration(cls.module(), cls.qualname());
      if (reg != nullptr && reg->restore) {
        Value restored = reg->restore(state);
        replace_pending(inst, restored);
        inst = std::move(restored);
        return;
      }
    }
    if (!pending_.empty()) pending_.erase(obj);
    if (!lean_) intern_names(state);
    Dict* current = obj->dict();
    const Dict* update = state.get_if<Dict>();
    if (current != nullptr && update != nullptr && obj->state().is<Dict>()) {
      for (const DictEntry& e : *update) current->set(e.key, e.value);
    } else if (!state.is_none()) {
      obj->set_state(state);
    }
    return;
  }
  if (Reduce* r = inst.get_if<Reduce>()) {
    r->state = state;
    return;
  }
  if (state.is_none()) return;
  fail("AttributeError", fmt::format("'{}' object has no attribute '__dict__'", inst.type_name()));
}

// APPEND/APPENDS onto stack_[from - 1] with the items stack_[from:].
void Unpickler::extend_target(std::size_t from) {
  if (stack_[from - 1].is<Instance>()) promote_to_reduce(from - 1);
  const Value& target = stack_[from - 1];
  const std::span<const Value> items = items_from(from);
  if (List* l = target.get_if<List>()) {
    if (lean_) {
      // Build::kForScan: a list's items cannot name a global once they are built.
    } else if (items.size() == 1) {
      l->append(items[0]);
    } else {
      l->extend(items);
    }
  } else if (Reduce* r = target.get_if<Reduce>()) {
    if (!r->listitems.is<List>()) r->listitems = Value(List::make(heap_));
    r->listitems.as<List>().extend(items);
  } else {
    refuse(fmt::format("{} on a {} (it would call its append/extend method)", op_->name,
                       target.type_name()));
  }
  truncate(from);
}

// SETITEM/SETITEMS: _pickle.c's do_setitems(x).
void Unpickler::set_items(std::size_t x) {
  const std::size_t len = stack_.size();
  if (x > len || x <= fence_) return underflow();
  if (len == x) return;
  if ((len - x) % 2 != 0) return report(kUnpicklingError, "odd number of items for SETITEMS");
  if (stack_[x - 1].is<Instance>()) promote_to_reduce(x - 1);
  const Value& target = stack_[x - 1];
  Dict* d = target.get_if<Dict>();
  if (d == nullptr) {
    Reduce* r = target.get_if<Reduce>();
    if (r == nullptr) {
      refuse(fmt::format("{} on a {} (it would call its __setitem__ method)", op_->name,
                         target.type_name()));
    }
    if (!r->dictitems.is<Dict>()) r->dictitems = Value(Dict::make(heap_));
    d = &r->dictitems.as<Dict>();
  }
  for (std::size_t i = x; i < len; i += 2) {
    if (!guard_key(stack_[i])) return;
    d->set(std::move(stack_[i]), std::move(stack_[i + 1]));
  }
  truncate(x);
}

// ADDITEMS: _pickle.c's load_additems.
void Unpickler::add_items(std::size_t mark) {
  const std::size_t len = stack_.size();
  if (mark > len || mark <= fence_) return underflow();
  if (len == mark) return;
  Set* s = stack_[mark - 1].get_if<Set>();
  if (s == nullptr) {
    refuse(fmt::format("ADDITEMS on a {} (it would call its add method)",
                       stack_[mark - 1].type_name()));
  }
  for (std::size_t i = mark; i < len; ++i) {
    if (!guard_key(stack_[i])) return;
    s->add(std::move(stack_[i]));
  }
  truncate(mark);
}

Value Unpickler::persistent_load(Value pid) {
  if (!options_.persistent_load) {
    fail(
        "A load persistent id instruction was encountered,\n"
        "but no persistent_load function was specified.");
  }
  return options_.persistent_load(pid);
}

// --- reading a stream ----------------------------------------------------------------
//
// CPython's Unpickler reads a file exactly: the opcode, then its argument (a line, or a
// count and then that many bytes), and a whole frame at FRAME, so the file is left just
// after STOP. fetch_instruction does the same before each instruction, using only the
// argument's framing (fixed width, count prefix, or newline-terminated); decoding and every
// error stay OpcodeReader's, which then sees what the stream had (a short argument is
// "pickle data was truncated", as in memory).

// Points data_ and the reader at buffer_ (after it grew or dropped its consumed prefix).
void Unpickler::refresh_view() {
  data_ = std::as_bytes(std::span(buffer_.data(), buffer_.size()));
  reader_ = OpcodeReader(data_);
  reader_.report_faults();
}

// Reads until buffer_ holds `end` bytes (relative to base_) or the stream ends. Consumed
// bytes (before the reader's position) are dropped first, so the buffer holds at most the
// current instruction or frame.
void Unpickler::read_until(std::size_t end) {
  if (end <= buffer_.size() || stream_ended_) return;
  const std::size_t consumed = reader_.position();
  if (consumed > 0) {
    buffer_.erase(0, consumed);
    base_ += consumed;
    end -= consumed;
  }
#if !OURO_BARE_METAL
  if (!detail::read_into(buffer_, end, *stream_, *stream_owner_, kStreamPiece)) {
    stream_ended_ = true;
  }
#endif
  refresh_view();
}

// Reads through the next newline at or after `from` (relative to base_), or to the end.
void Unpickler::read_line_from(std::size_t from) {
  std::size_t scanned = from;
  while (true) {
    const std::size_t newline = buffer_.find('\n', scanned);
    if (newline != std::string::npos) return;
    const std::size_t consumed = reader_.position();
    scanned = buffer_.size() - consumed;  // where the next byte lands after the drop
    if (stream_ended_) return;
    read_until(buffer_.size() + 1);
    if (buffer_.size() <= scanned) return;
  }
}

// Makes sure the whole next instruction is in buffer_, as far as the stream has it.
void Unpickler::fetch_instruction() {
  std::size_t at = reader_.position();
  if (at == buffer_.size() && at > 0) {  // all consumed: start afresh
    base_ += at;
    buffer_.clear();
    refresh_view();
    at = 0;
  }
  const auto byte_at = [this](std::size_t i) { return static_cast<unsigned char>(buffer_[i]); };
  read_until(at + 1);
  at = reader_.position();
  if (at >= buffer_.size()) return;  // end of stream: the reader says so
  const OpcodeInfo* info = find_opcode(byte_at(at));
  if (info == nullptr) return;
  const std::size_t arg = at + 1;
  const ArgFraming framing = framing_of(info->arg);
  if (framing.lines > 0) {
    read_line_from(arg);
    if (framing.lines == 2) {
      at = reader_.position();
      const std::size_t first = buffer_.find('\n', at + 1);
      if (first != std::string::npos) read_line_from(first + 1);
    }
    return;
  }
  read_until(arg + framing.width);
  at = reader_.position();
  if (!framing.counted || buffer_.size() < at + 1 + framing.width) return;
  std::uint64_t count = 0;
  for (std::size_t k = framing.width; k > 0; --k) count = (count << 8) | byte_at(at + k);
  if (framing.signed_count && (count & 0x80000000U) != 0) return;  // the reader complains
  const std::size_t payload = at + 1 + framing.width;
  read_until(count > SIZE_MAX - payload ? SIZE_MAX : payload + static_cast<std::size_t>(count));
}

// --- the loop ------------------------------------------------------------------------

// The reader's faults in _pickle.c's words: EOF where an opcode should be, an unknown
// opcode byte, an argument cut short, a negative LONG4 count.
void Unpickler::report_read_fault() {
  std::uint64_t count = 0;
  const ReadFault fault = reader_.fault(&count);
  const std::size_t at = offset_ - base_;
  if (fault == ReadFault::kEnd) return report("EOFError", "Ran out of input");
  const auto code = static_cast<std::uint8_t>(data_[at]);
  op_ = find_opcode(code);
  if (fault == ReadFault::kUnknownOpcode) {
    if (code >= 0x20 && code < 0x7f) {
      return report(kUnpicklingError, "invalid load key, '{}'.", static_cast<char>(code));
    }
    return report(kUnpicklingError, "invalid load key, '\\x{:02x}'.", code);
  }
  if (fault == ReadFault::kTruncated || op_->code == Op::kBinString) return truncated();
  if (op_->code == Op::kLong4) {
    return report(kUnpicklingError, "LONG pickle has negative byte count");
  }
  // kCountTooLarge: a uint8 count above sys.maxsize, in the reader's words.
  const std::string_view name = op_->arg == ArgKind::kBytes8       ? "bytes8"
                                : op_->arg == ArgKind::kBytearray8 ? "bytearray8"
                                                                   : "unicodestring8";
  report("ValueError", "{} byte count > sys.maxsize: {}", name, count);
}

// Runs the instructions to STOP. An error either throws (loads) or was recorded by report()
// (try_loads), which stopped the reader and so ends the loop; either way everything built so far
// is released and half-built cycles are collected.
Value Unpickler::run(std::size_t* consumed) {
  RawInstruction ins;
  try {
    while (true) {
      if (stream_ != nullptr) fetch_instruction();
      offset_ = base_ + reader_.position();
      op_ = nullptr;
      if (OURO_UNLIKELY(!reader_.next_raw(ins))) {
        if (!failed_) report_read_fault();  // else report() stopped the reader
        break;
      }
      op_ = ins.info;
      // Frames (keeps CPython 3.14's rule): no argument may straddle a frame's end.
      // (Tested end first: inside a frame that one comparison is false.)
      if (base_ + ins.end > frame_end_ && frame_end_ != 0 && base_ + ins.offset < frame_end_) {
        report(kUnpicklingError, "pickle exhausted before end of frame");
        break;
      }
      if (op_->code == Op::kStop) {
        if (!has_items(1)) break;
        Value result = pop();
        if (consumed != nullptr) *consumed = base_ + ins.end;
        release_all();
        return result;
      }
      execute(ins);
    }
  } catch (const UnpicklingError&) {
    release_all();
    gc::collect(2, heap_);
    throw;
  } catch (const MemoryError&) {
    release_all();
    gc::collect(2, heap_);
    throw;
  } catch (const OpcodeError& e) {
    release_all();
    gc::collect(2, heap_);
    fail(e.python_type(), e.what());
  } catch (const Error& e) {
    release_all();
    gc::collect(2, heap_);
    fail(e.python_type(), e.what());
  } catch (const TypeError& e) {
    release_all();
    gc::collect(2, heap_);
    fail("TypeError", e.what());
  } catch (...) {
    release_all();
    gc::collect(2, heap_);
    throw;
  }
  release_all();  // report() recorded an error (try_loads)
  gc::collect(2, heap_);
  return Value();
}

void Unpickler::execute(const RawInstruction& ins) {
  switch (ins.info->code) {
    // --- constants and scalars ---
    case Op::kNone:
      push(Value());
      return;
    case Op::kNewTrue:
      push(Value(true));
      return;
    case Op::kNewFalse:
      push(Value(false));
      return;
    case Op::kBinInt:
    case Op::kBinInt1:
    case Op::kBinInt2:
      push(Value(ins.int_value));
      return;
    case Op::kInt:
      if (ins.text.empty()) return truncated();
      if (ins.text == "00" || ins.text == "01") {
        push(Value(ins.text == "01"));
        return;
      }
      return push_decimal(ins.text, ins.text, false);
    case Op::kLong: {
      if (ins.text.empty()) return truncated();
      std::string_view text = ins.text;
      if (text.back() == 'L') text.remove_suffix(1);
      return push_decimal(text, ins.text, true);
    }
    case Op::kLong1:
    case Op::kLong4:
      push(make_int_bytes(as_bytes(ins.text)));
      return;
    case Op::kFloat: {
      if (ins.text.empty()) return truncated();
      double x = 0;
      if (!parse_python_float(ins.text, x)) {
        return report("ValueError", "could not convert string to float");
      }
      push(make_float(x));
      return;
    }
    case Op::kBinFloat:
      push(make_float(ins.float_value));
      return;

    // --- strings and bytes ---
    case Op::kString: {
      std::string_view line = ins.text;
      if (line.size() >= 2 && line.front() == line.back() &&
          (line.front() == '\'' || line.front() == '"')) {
        line = line.substr(1, line.size() - 2);
      } else {
        fail("the STRING opcode argument must be quoted");
      }
      push(decode_python2_string(detail::escape_decode(line)));
      return;
    }
    case Op::kBinString:
    case Op::kShortBinString:
      push(decode_python2_string(ins.text));
      return;
    case Op::kBinBytes:
    case Op::kShortBinBytes:
    case Op::kBinBytes8:
      push(make_bytes(ins.text));
      return;
    case Op::kByteArray8:
      push(lean_ ? placeholder(placeholder_bytearray_,
                               [&] { return Value(ByteArray::make(heap_, {})); })
                 : Value(ByteArray::make(heap_, as_bytes(ins.text))));
      return;
    case Op::kUnicode: {
      ScratchText utf8(alloc(), 2 * ins.text.size());
      const std::size_t n = decode_raw_unicode_escape_utf8(ins.text, utf8.data());
      push(make_str({utf8.data(), n}));
      return;
    }
    case Op::kShortBinUnicode:
    case Op::kBinUnicode:
    case Op::kBinUnicode8:
      push(make_str(ins.text));
      return;

    // --- containers ---
    case Op::kEmptyTuple:
      push(empty_tuple());
      return;
    case Op::kTuple: {
      const std::size_t k = marker();
      if (k == kNoMark) return;
      Value t = make_tuple(items_from(k));
      truncate(k);
      push(std::move(t));
      return;
    }
    case Op::kTuple1:
    case Op::kTuple2:
    case Op::kTuple3: {
      const std::size_t n = ins.info->code == Op::kTuple1   ? 1
                            : ins.info->code == Op::kTuple2 ? 2
                                                            : 3;
      if (!has_items(n)) return;
      const std::size_t k = stack_.size() - n;
      Value t(Tuple::make(heap_, items_from(k)));
      truncate(k);
      push(std::move(t));
      return;
    }
    case Op::kEmptyList:
      push(Value(List::make(heap_)));
      return;
    case Op::kList: {
      const std::size_t k = marker();
      if (k == kNoMark) return;
      Value l(lean_ ? List::make(heap_) : List::make(heap_, items_from(k)));
      truncate(k);
      push(std::move(l));
      return;
    }
    case Op::kEmptyDict:
      push(Value(Dict::make(heap_)));
      return;
    case Op::kDict: {
      const std::size_t k = marker();
      if (k == kNoMark) return;
      if ((stack_.size() - k) % 2 != 0)
        return report(kUnpicklingError, "odd number of items for DICT");
      Ref<Dict> d = Dict::make(heap_);
      for (std::size_t i = k; i < stack_.size(); i += 2) {
        if (!guard_key(stack_[i])) return;
        d->set(std::move(stack_[i]), std::move(stack_[i + 1]));
      }
      truncate(k);
      push(Value(std::move(d)));
      return;
    }
    case Op::kEmptySet:
      push(Value(Set::make(heap_)));
      return;
    case Op::kFrozenSet: {
      const std::size_t k = marker();
      if (k == kNoMark) return;
      for (const Value& item : items_from(k)) {
        if (!guard_key(item)) return;
      }
      Value f(FrozenSet::make(heap_, items_from(k)));
      truncate(k);
      push(std::move(f));
      return;
    }
    case Op::kAppend: {
      const std::size_t x = stack_.size() - 1;
      if (stack_.empty() || x <= fence_) return underflow();
      extend_target(x);
      return;
    }
    case Op::kAppends: {
      const std::size_t x = marker();
      if (x == kNoMark) return;
      if (x > stack_.size() || x <= fence_) return underflow();
      if (x == stack_.size()) return;
      extend_target(x);
      return;
    }
    case Op::kSetItem:
      if (stack_.size() < 2) return underflow();
      set_items(stack_.size() - 2);
      return;
    case Op::kSetItems: {
      const std::size_t x = marker();
      if (x != kNoMark) set_items(x);
      return;
    }
    case Op::kAddItems: {
      const std::size_t x = marker();
      if (x != kNoMark) add_items(x);
      return;
    }

    // --- stack and memo ---
    case Op::kPop:
      if (!marks_.empty() && marks_.back() == stack_.size()) {
        marker();
      } else if (has_items(1)) {
        stack_.pop_back();
      }
      return;
    case Op::kDup:
      if (!has_items(1)) return;
      push(stack_.back());
      return;
    case Op::kMark:
      marks_.push_back(stack_.size());
      fence_ = stack_.size();
      return;
    case Op::kPopMark: {
      const std::size_t k = marker();
      if (k != kNoMark) truncate(k);
      return;
    }
    case Op::kGet:
    case Op::kBinGet:
    case Op::kLongBinGet: {
      const std::uint64_t index = ins.info->code == Op::kGet
                                      ? memo_index_text(ins.text)
                                      : static_cast<std::uint64_t>(ins.int_value);
      if (index == kNoIndex) return;
      const Value* v = memo_get(index);
      if (v == nullptr) return report(kUnpicklingError, "Memo value not found at index {}", index);
      push(*v);
      return;
    }
    case Op::kPut:
    case Op::kBinPut:
    case Op::kLongBinPut: {
      const std::uint64_t index = ins.info->code == Op::kPut
                                      ? memo_index_text(ins.text)
                                      : static_cast<std::uint64_t>(ins.int_value);
      if (index == kNoIndex || !has_items(1)) return;
      memo_put(index, stack_.back());
      return;
    }
    case Op::kMemoize:
      if (!has_items(1)) return;
      memo_put(memo_count_, stack_.back());
      return;

    // --- globals, calls, objects: all through the policy ---
    case Op::kGlobal:
      if (ins.text.empty() || ins.text2.empty()) return truncated();
      push(find_class(ins.text, ins.text2));
      return;
    case Op::kStackGlobal: {
      if (!has_items(2)) return;
      Value name = pop();
      Value module = pop();
      if (!name.is<Str>() || !module.is<Str>()) {
        return report(kUnpicklingError, "STACK_GLOBAL requires str");
      }
      push(find_class(module.as<std::string_view>(), name.as<std::string_view>()));
      return;
    }
    case Op::kExt1:
    case Op::kExt2:
    case Op::kExt4:
      // copyreg's extension registry is empty in a fresh CPython, and ouro has none.
      if (ins.int_value <= 0) return report(kUnpicklingError, "EXT specifies code <= 0");
      return report("ValueError", "unregistered extension code {}", ins.int_value);
    case Op::kReduce: {
      if (!has_items(2)) return;
      Value args = pop();
      Value callable = pop();
      push(call(callable, args));
      return;
    }
    case Op::kNewObj: {
      if (!has_items(2)) return;
      Value args = pop();
      Value cls = pop();
      push(new_object(cls, args, Value(), false));
      return;
    }
    case Op::kNewObjEx: {
      if (!has_items(3)) return;
      Value kwargs = pop();
      Value args = pop();
      Value cls = pop();
      push(new_object(cls, args, kwargs, true));
      return;
    }
    case Op::kInst: {
      const std::size_t k = marker();
      if (k == kNoMark) return;
      if (ins.text.empty() || ins.text2.empty()) return truncated();
      Value args = make_tuple(items_from(k));
      truncate(k);
      Value cls = find_class(ins.text, ins.text2);
      if (failed_) return;
      push(instantiate(cls, args));
      return;
    }
    case Op::kObj: {
      const std::size_t k = marker();
      if (k == kNoMark) return;
      if (stack_.size() - k < 1) return underflow();
      Value cls = stack_[k];
      Value args = make_tuple(items_from(k + 1));
      truncate(k);
      push(instantiate(cls, args));
      return;
    }
    case Op::kBuild: {
      if (!has_items(2)) return;
      Value state = pop();
      build(state);
      return;
    }
    case Op::kPersId: {
      for (char c : ins.text) {
        if (static_cast<unsigned char>(c) >= 0x80) {
          fail("persistent IDs in protocol 0 must be ASCII strings");
        }
      }
      push(persistent_load(make_str(ins.text)));
      return;
    }
    case Op::kBinPersId: {
      if (!options_.persistent_load) persistent_load(Value());
      if (!has_items(1)) return;
      push(persistent_load(pop()));
      return;
    }

    // --- protocol 4/5 framing and buffers ---
    case Op::kProto:
      if (ins.int_value > kHighestProtocol) {
        return report("ValueError", "unsupported pickle protocol: {}", ins.int_value);
      }
      proto_ = static_cast<int>(ins.int_value);
      return;
    case Op::kFrame: {
      const std::size_t frame_start = base_ + ins.end;  // absolute
      if (frame_end_ != 0 && base_ + ins.offset < frame_end_) {
        return report(kUnpicklingError, "beginning of a new frame before end of current frame");
      }
      // A stream's frame is read whole now, as CPython's Unpickler does (reading may move
      // the buffer: ins's views are not used after this).
      if (stream_ != nullptr) {
        const std::size_t rel = frame_start - base_;
        read_until(ins.uint_value > SIZE_MAX - rel ? SIZE_MAX : rel + ins.uint_value);
      }
      if (ins.uint_value > base_ + data_.size() - frame_start) return truncated();
      frame_end_ = frame_start + ins.uint_value;
    }
      return;
    case Op::kNextBuffer:
      if (!options_.buffers_given) {
        return report(kUnpicklingError,
                      "pickle stream refers to out-of-band data but no *buffers* argument was "
                      "given");
      }
      if (next_buffer_ >= options_.buffers.size()) {
        return report(kUnpicklingError, "not enough out-of-band buffers");
      }
      push(options_.buffers[next_buffer_++]);
      return;
    case Op::kReadonlyBuffer: {
      if (!has_items(1)) return;
      Value& top = stack_.back();
      if (const ByteArray* a = top.get_if<ByteArray>()) {
        top = Value(Bytes::make(heap_, a->data()));
      }
      return;
    }
    case Op::kStop:
      return;  // handled by run()
  }
}

// Automatic collection is paused while loading: everything built is reachable from the
// stack or the memo until STOP, so a collection could free nothing and would only walk the
// growing result again and again (a third of the time of a 100,000-dict load). The limit
// still holds: the heap's pressure hook collects regardless (I7), and errors collect.
class GcPause {
 public:
  explicit GcPause(Heap& heap) : heap_(heap), was_enabled_(gc::isenabled(heap)) {
    if (was_enabled_) gc::disable(heap_);
  }
  ~GcPause() {
    if (was_enabled_) gc::enable(heap_);
  }
  GcPause(const GcPause&) = delete;
  GcPause& operator=(const GcPause&) = delete;

 private:
  Heap& heap_;
  bool was_enabled_;
};

}  // namespace

Value unpickle(Heap& heap, std::span<const std::byte> data, const LoadOptions& options,
               std::size_t* consumed, Build build, LoadError* report_to) {
  const GcPause pause(heap);
  Unpickler unpickler(heap, data, options, build, report_to);
  return unpickler.run(consumed);
}

#if !OURO_BARE_METAL
Value unpickle(Heap& heap, std::istream& in, const LoadOptions& options) {
  const GcPause pause(heap);
  Unpickler unpickler(heap, in, options);
  return unpickler.run(nullptr);
}
#endif

}  // namespace detail

Value loads(std::string_view data, const LoadOptions& options, ouro::SiteLocation loc) {
  SiteScope site(loc);  // what loading allocates is charged to the caller's loads line
  Heap* heap = Heap::current();
  if (heap == nullptr) ouro::detail::throw_no_current_heap("ouro::loads()");
  return detail::unpickle(*heap, as_bytes(data), options);
}

// The unpickler reports its own findings into result.error; what still throws (see
// try_loads in pickle.h) is caught here and reported the same way.
LoadResult try_loads(std::string_view data, const LoadOptions& options, ouro::SiteLocation loc) {
  SiteScope site(loc);
  Heap* heap = Heap::current();
  if (heap == nullptr) ouro::detail::throw_no_current_heap("ouro::try_loads()");
  LoadResult result;
  try {
    result.value = detail::unpickle(*heap, as_bytes(data), options, nullptr, detail::Build::kAll,
                                    &result.error);
  } catch (const UnpicklingError& e) {
    result.error.set(e.python_type(), e.message(), e.offset(), e.opcode());
  } catch (const MemoryError& e) {
    result.error.set("MemoryError", e.what(), -1, "");
  }
  return result;
}

#if !OURO_BARE_METAL
Value load(std::istream& in, const LoadOptions& options) {
  Heap* heap = Heap::current();
  if (heap == nullptr) ouro::detail::throw_no_current_heap("ouro::load()");
  return detail::unpickle(*heap, in, options);
}
#endif

}  // namespace ouro::pickle
