// Tests of src/pickle/numpy and numpy_repr: the numpy pickles of tests/data/realworld
// (written by numpy itself with protocols 2 and 5, tools/gen/make_realworld_pickles.py) read
// as typed views whose dtype, shape, strides, values and repr equal what numpy printed into
// expected.json; structured and object dtypes recognised and refused by name.
#include "ouro/pickle/numpy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>

#include "ouro/value/value.h"
#include "pickle/catalogue.h"
#include "support/heap_fixture.h"

namespace ouro::pickle::numpy {
namespace {

const std::filesystem::path kData = std::filesystem::path(OURO_SOURCE_DIR) / "tests/data/realworld";

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

nlohmann::json expected() { return nlohmann::json::parse(read_file(kData / "expected.json")); }

class NumpyTest : public testing::HeapTest {
 protected:
  Value load_strict(const std::string& file) {
    LoadOptions options;
    options.allow = safe_globals();
    return loads(read_file(kData / file), options);
  }
};

TEST_F(NumpyTest, ArraysMatchNumpy) {
  int checked = 0;
  const nlohmann::json facts = expected();  // kept: the loop borrows from it
  for (const nlohmann::json& f : facts["arrays"]) {
    const std::string name = f["name"];
    if (name == "structured" || name == "object") continue;  // RecognisedButRefused below
    SCOPED_TRACE(f["file"].get<std::string>());
    const Value v = load_strict(f["file"]);
    const std::optional<Array> a = as_array(v);
    ASSERT_TRUE(a.has_value());
    // The stored byte order: numpy's own load swaps '>' data to native order (protocols
    // 0-4), a zero-copy view cannot, and says what the bytes are.
    EXPECT_EQ(a->dtype.str, f["stored_dtype"]);
    EXPECT_EQ(a->dtype.name, f["dtype_name"]);
    EXPECT_EQ(a->shape, f["shape"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(a->strides, f["strides"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(a->fortran, f["fortran"]);
    const std::vector<double> values = a->values();
    EXPECT_EQ(static_cast<std::int64_t>(values.size()), a->size());
    const auto first = f["first"].get<std::vector<double>>();
    // numpy's "first" follows memory order (reshape order='A'), values() C order: compare
    // C-ordered arrays element by element, all arrays by their sums.
    if (!a->fortran) {
      for (std::size_t k = 0; k < first.size(); ++k) EXPECT_EQ(values[k], first[k]) << k;
    }
    EXPECT_EQ(std::accumulate(values.begin(), values.end(), 0.0), f["sum"].get<double>());
    EXPECT_EQ(repr(*a), f["repr"]);
    ++checked;
  }
  EXPECT_EQ(checked, 34);
}

TEST_F(NumpyTest, FortranOrderReadsInLogicalOrder) {
  const std::optional<Array> a = as_array(load_strict("np_float32_fortran_p2.pkl"));
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->fortran);
  EXPECT_EQ(a->strides, (std::vector<std::int64_t>{4, 8}));
  EXPECT_EQ(a->values(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
}

TEST_F(NumpyTest, DataIsAViewOfTheLoadedBytes) {
  const Value v = load_strict("np_int32_p5.pkl");
  const std::optional<Array> a = as_array(v);
  ASSERT_TRUE(a.has_value());
  const Reduce& call = v.as<Reduce>();
  const Tuple& args = call.args.as<Tuple>();
  EXPECT_EQ(a->data.data(), args[0].as<ByteArray>().data().data());  // in-band buffer
}

// The catalogue lists numpy's reducers: a strict load needs no allow-list, and show's
// repr (catalogue_repr) prints arrays, scalars and dtypes as numpy does, nested too.
TEST_F(NumpyTest, CatalogueLoadsStrictlyAndPrintsNumpysRepr) {
  const nlohmann::json facts = expected();
  int checked = 0;
  for (const nlohmann::json& f : facts["arrays"]) {
    const std::string name = f["name"];
    if (name == "structured" || name == "object") continue;
    SCOPED_TRACE(f["file"].get<std::string>());
    const Value v = loads(read_file(kData / f["file"].get<std::string>()));
    EXPECT_EQ(catalogue_repr(v), f["repr"]);
    EXPECT_EQ(catalogue_repr(list({v, 1})), "[" + f["repr"].get<std::string>() + ", 1]");
    ++checked;
  }
  EXPECT_EQ(checked, 34);
  for (const nlohmann::json& f : facts["scalars"]) {
    EXPECT_EQ(catalogue_repr(loads(read_file(kData / f["file"].get<std::string>()))), f["repr"]);
  }
  const Value big = loads(read_file(kData / "np_big_endian_int32_p5.pkl"));
  EXPECT_EQ(catalogue_repr(big.as<Reduce>().args.as<Tuple>()[1]), "dtype('>i4')");
  const Value little = loads(read_file(kData / "np_int32_p5.pkl"));
  EXPECT_EQ(catalogue_repr(little.as<Reduce>().args.as<Tuple>()[1]), "dtype('int32')");
}

TEST_F(NumpyTest, OutOfBandBufferIsViewedInPlace) {
  const nlohmann::json facts = expected();
  const nlohmann::json& f = facts["out_of_band"];
  const Value buffer =
      Value(Bytes::make(heap(), as_bytes(read_file(kData / f["buffer"].get<std::string>()))));
  LoadOptions options;
  options.allow = safe_globals();
  options.buffers = {Value(Buffer::make(heap(), buffer))};
  options.buffers_given = true;
  const std::optional<Array> a =
      as_array(loads(read_file(kData / f["file"].get<std::string>()), options));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->data.data(), buffer.as<Bytes>().data().data());  // the caller's bytes, not a copy
  EXPECT_EQ(a->shape, f["shape"].get<std::vector<std::int64_t>>());
  EXPECT_EQ(a->strides, f["strides"].get<std::vector<std::int64_t>>());
  EXPECT_EQ(repr(*a), f["repr"]);
  // Without the buffers, CPython's error.
  LoadOptions without;
  without.allow = safe_globals();
  EXPECT_THROW((void)loads(read_file(kData / f["file"].get<std::string>()), without),
               UnpicklingError);
}

TEST_F(NumpyTest, ScalarsMatchNumpy) {
  const nlohmann::json facts = expected();
  for (const nlohmann::json& f : facts["scalars"]) {
    SCOPED_TRACE(f["file"].get<std::string>());
    const std::optional<Scalar> s = as_scalar(load_strict(f["file"]));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->dtype.str, f["dtype"]);
    EXPECT_EQ(s->value(), f["value"].get<double>());
    EXPECT_EQ(repr(*s), f["repr"]);
  }
}

TEST_F(NumpyTest, StructuredAndObjectDtypesAreRecognisedAndRefused) {
  for (const char* file : {"np_structured_p2.pkl", "np_structured_p5.pkl"}) {
    SCOPED_TRACE(file);
    try {
      (void)as_array(load_strict(file));
      FAIL() << "structured array read";
    } catch (const NumpyError& e) {
      EXPECT_NE(std::string(e.what()).find("structured dtype (fields ('a', 'b'))"),
                std::string::npos)
          << e.what();
    }
  }
  for (const char* file : {"np_object_p2.pkl", "np_object_p5.pkl"}) {
    SCOPED_TRACE(file);
    // Object arrays hold pickled Python objects: inspect mode loads them.
    LoadOptions options;
    options.policy = Policy::kInspect;
    try {
      (void)as_array(loads(read_file(kData / file), options));
      FAIL() << "object array read";
    } catch (const NumpyError& e) {
      EXPECT_NE(std::string(e.what()).find("object dtype"), std::string::npos) << e.what();
    }
  }
}

TEST(ElementCount, RefusesShapesWhoseProductCouldOverflow) {
  EXPECT_EQ(element_count(std::vector<std::int64_t>{}), 1);
  EXPECT_EQ(element_count(std::vector<std::int64_t>{2, 3}), 6);
  EXPECT_EQ(element_count(std::vector<std::int64_t>{1 << 30, 0, 5}), 0);
  EXPECT_EQ(element_count(std::vector<std::int64_t>{-1}), -1);
  // Zero elements, but a later product of the other dimensions would overflow.
  EXPECT_EQ(
      element_count(std::vector<std::int64_t>{std::int64_t{1} << 40, 0, std::int64_t{1} << 40}),
      -1);
}

TEST_F(NumpyTest, OtherValuesAreNotArrays) {
  EXPECT_FALSE(as_array(Value(1)).has_value());
  EXPECT_FALSE(as_scalar(list({1, 2})).has_value());
  EXPECT_FALSE(as_dtype(Value()).has_value());
}

TEST_F(NumpyTest, DataOfTheWrongSizeIsAnError) {
  // The int32 array's protocol-5 pickle with its shape (3,) changed to (4,).
  std::string data = read_file(kData / "np_int32_p5.pkl");
  const std::size_t at = data.find("K\x03\x85");  // BININT1 3, TUPLE1
  ASSERT_NE(at, std::string::npos);
  data[at + 1] = 4;
  LoadOptions options;
  options.allow = safe_globals();
  try {
    (void)as_array(loads(data, options));
    FAIL();
  } catch (const NumpyError& e) {
    EXPECT_NE(std::string(e.what()).find("12 data bytes for shape 4 and dtype <i4 (16 expected)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ouro::pickle::numpy
