// Pickles from CPython's Lib/test/pickletester.py (3.11) and their disassemblies: fixed
// oracles for dis that need no interpreter. DATA0-DATA4 pickle the same value with protocols
// 0-4; DATA_SET, DATA_XRANGE, DATA_COOKIE, DATA_SET2 and DATA_UEERR are Python 2 pickles.
// pickletester keeps DATA2_DIS-DATA4_DIS in plain (not raw) literals, so its "\x80" became
// U+0080, and its DATA4_DIS predates MEMOIZE's "(as N)" note; CPython only checks DATA0 and
// DATA1. Here the texts are exactly what pickletools 3.11 prints.
#pragma once

#include <string_view>

namespace ouro::pickle::testdata {

using namespace std::string_view_literals;

/// One pickletester constant: its name, its bytes and, where pickletester has one, the
/// output pickletools.dis must give (empty otherwise).
struct PickletesterCase {
  std::string_view name;
  std::string_view data;
  std::string_view dis;
};

inline constexpr std::string_view kData0Bytes =
    "(lp0\012L0L\012aL1L\012aF2.0\012ac__builtin__\012complex\012p1\012(F3.0\012F0.0\012"
    "tp2\012Rp3\012aL1L\012aL-1L\012aL255L\012aL-255L\012aL-256L\012aL65535L\012aL-65"
    "535L\012aL-65536L\012aL2147483647L\012aL-2147483647L\012aL-2147483648L\012a(Vabc"
    "\012p4\012g4\012ccopy_reg\012_reconstructor\012p5\012(c__main__\012C\012p6\012c_"
    "_builtin__\012object\012p7\012Ntp8\012Rp9\012(dp10\012Vfoo\012p11\012L1L\012sVba"
    "r\012p12\012L2L\012sbg9\012tp13\012ag13\012aL5L\012a."sv;

inline constexpr std::string_view kData1Bytes =
    "]q\000(K\000K\001G@\000\000\000\000\000\000\000c__builtin__\012complex\012q\001("
    "G@\010\000\000\000\000\000\000G\000\000\000\000\000\000\000\000tq\002Rq\003K\001"
    "J\377\377\377\377K\377J\001\377\377\377J\000\377\377\377M\377\377J\001\000\377\377"
    "J\000\000\377\377J\377\377\377\177J\001\000\000\200J\000\000\000\200(X\003\000\000"
    "\000abcq\004h\004ccopy_reg\012_reconstructor\012q\005(c__main__\012C\012q\006c__"
    "builtin__\012object\012q\007Ntq\010Rq\011}q\012(X\003\000\000\000fooq\013K\001X\003"
    "\000\000\000barq\014K\002ubh\011tq\015h\015K\005e."sv;

inline constexpr std::string_view kData2Bytes =
    "\200\002]q\000(K\000K\001G@\000\000\000\000\000\000\000c__builtin__\012complex\012"
    "q\001G@\010\000\000\000\000\000\000G\000\000\000\000\000\000\000\000\206q\002Rq\003"
    "K\001J\377\377\377\377K\377J\001\377\377\377J\000\377\377\377M\377\377J\001\000\377"
    "\377J\000\000\377\377J\377\377\377\177J\001\000\000\200J\000\000\000\200(X\003\000"
    "\000\000abcq\004h\004c__main__\012C\012q\005)\201q\006}q\007(X\003\000\000\000fo"
    "oq\010K\001X\003\000\000\000barq\011K\002ubh\006tq\012h\012K\005e."sv;

inline constexpr std::string_view kData3Bytes =
    "\200\003]q\000(K\000K\001G@\000\000\000\000\000\000\000cbuiltins\012complex\012q"
    "\001G@\010\000\000\000\000\000\000G\000\000\000\000\000\000\000\000\206q\002Rq\003"
    "K\001J\377\377\377\377K\377J\001\377\377\377J\000\377\377\377M\377\377J\001\000\377"
    "\377J\000\000\377\377J\377\377\377\177J\001\000\000\200J\000\000\000\200(X\003\000"
    "\000\000abcq\004h\004c__main__\012C\012q\005)\201q\006}q\007(X\003\000\000\000ba"
    "rq\010K\002X\003\000\000\000fooq\011K\001ubh\006tq\012h\012K\005e."sv;

inline constexpr std::string_view kData4Bytes =
    "\200\004\225\250\000\000\000\000\000\000\000]\224(K\000K\001G@\000\000\000\000\000"
    "\000\000\214\010builtins\224\214\007complex\224\223\224G@\010\000\000\000\000\000"
    "\000G\000\000\000\000\000\000\000\000\206\224R\224K\001J\377\377\377\377K\377J\001"
    "\377\377\377J\000\377\377\377M\377\377J\001\000\377\377J\000\000\377\377J\377\377"
    "\377\177J\001\000\000\200J\000\000\000\200(\214\003abc\224h\006\214\010__main__\224"
    "\214\001C\224\223\224)\201\224}\224(\214\003bar\224K\002\214\003foo\224K\001ubh\012"
    "t\224h\016K\005e."sv;

inline constexpr std::string_view kDataSetBytes =
    "\200\002c__builtin__\012set\012q\000]q\001(K\001K\002e\205q\002Rq\003."sv;

inline constexpr std::string_view kDataXrangeBytes =
    "\200\002c__builtin__\012xrange\012q\000K\000K\005K\001\207q\001Rq\002."sv;

inline constexpr std::string_view kDataCookieBytes =
    "\200\002cCookie\012SimpleCookie\012q\000)\201q\001U\003keyq\002cCookie\012Morsel"
    "\012q\003)\201q\004(U\007commentq\005U\000q\006U\006domainq\007h\006U\006secureq"
    "\010h\006U\007expiresq\011h\006U\007max-ageq\012h\006U\007versionq\013h\006U\004"
    "pathq\014h\006U\010httponlyq\015h\006u}q\016(U\013coded_valueq\017U\005valueq\020"
    "h\020h\020h\002h\002ubs}q\021b."sv;

inline constexpr std::string_view kDataSet2Bytes =
    "\200\002c__builtin__\012set\012q\000]q\001K\003a\205q\002Rq\003."sv;

inline constexpr std::string_view kDataUeerrBytes =
    "\200\002cexceptions\012UnicodeEncodeError\012q\000(U\005asciiq\001X\003\000\000\000"
    "fooq\002K\000K\001U\003badq\003tq\004Rq\005."sv;

inline constexpr std::string_view kData0Dis = R"(    0: (    MARK
    1: l        LIST       (MARK at 0)
    2: p    PUT        0
    5: L    LONG       0
    9: a    APPEND
   10: L    LONG       1
   14: a    APPEND
   15: F    FLOAT      2.0
   20: a    APPEND
   21: c    GLOBAL     '__builtin__ complex'
   42: p    PUT        1
   45: (    MARK
   46: F        FLOAT      3.0
   51: F        FLOAT      0.0
   56: t        TUPLE      (MARK at 45)
   57: p    PUT        2
   60: R    REDUCE
   61: p    PUT        3
   64: a    APPEND
   65: L    LONG       1
   69: a    APPEND
   70: L    LONG       -1
   75: a    APPEND
   76: L    LONG       255
   82: a    APPEND
   83: L    LONG       -255
   90: a    APPEND
   91: L    LONG       -256
   98: a    APPEND
   99: L    LONG       65535
  107: a    APPEND
  108: L    LONG       -65535
  117: a    APPEND
  118: L    LONG       -65536
  127: a    APPEND
  128: L    LONG       2147483647
  141: a    APPEND
  142: L    LONG       -2147483647
  156: a    APPEND
  157: L    LONG       -2147483648
  171: a    APPEND
  172: (    MARK
  173: V        UNICODE    'abc'
  178: p        PUT        4
  181: g        GET        4
  184: c        GLOBAL     'copy_reg _reconstructor'
  209: p        PUT        5
  212: (        MARK
  213: c            GLOBAL     '__main__ C'
  225: p            PUT        6
  228: c            GLOBAL     '__builtin__ object'
  248: p            PUT        7
  251: N            NONE
  252: t            TUPLE      (MARK at 212)
  253: p        PUT        8
  256: R        REDUCE
  257: p        PUT        9
  260: (        MARK
  261: d            DICT       (MARK at 260)
  262: p        PUT        10
  266: V        UNICODE    'foo'
  271: p        PUT        11
  275: L        LONG       1
  279: s        SETITEM
  280: V        UNICODE    'bar'
  285: p        PUT        12
  289: L        LONG       2
  293: s        SETITEM
  294: b        BUILD
  295: g        GET        9
  298: t        TUPLE      (MARK at 172)
  299: p    PUT        13
  303: a    APPEND
  304: g    GET        13
  308: a    APPEND
  309: L    LONG       5
  313: a    APPEND
  314: .    STOP
highest protocol among opcodes = 0
)"sv;

inline constexpr std::string_view kData1Dis = R"(    0: ]    EMPTY_LIST
    1: q    BINPUT     0
    3: (    MARK
    4: K        BININT1    0
    6: K        BININT1    1
    8: G        BINFLOAT   2.0
   17: c        GLOBAL     '__builtin__ complex'
   38: q        BINPUT     1
   40: (        MARK
   41: G            BINFLOAT   3.0
   50: G            BINFLOAT   0.0
   59: t            TUPLE      (MARK at 40)
   60: q        BINPUT     2
   62: R        REDUCE
   63: q        BINPUT     3
   65: K        BININT1    1
   67: J        BININT     -1
   72: K        BININT1    255
   74: J        BININT     -255
   79: J        BININT     -256
   84: M        BININT2    65535
   87: J        BININT     -65535
   92: J        BININT     -65536
   97: J        BININT     2147483647
  102: J        BININT     -2147483647
  107: J        BININT     -2147483648
  112: (        MARK
  113: X            BINUNICODE 'abc'
  121: q            BINPUT     4
  123: h            BINGET     4
  125: c            GLOBAL     'copy_reg _reconstructor'
  150: q            BINPUT     5
  152: (            MARK
  153: c                GLOBAL     '__main__ C'
  165: q                BINPUT     6
  167: c                GLOBAL     '__builtin__ object'
  187: q                BINPUT     7
  189: N                NONE
  190: t                TUPLE      (MARK at 152)
  191: q            BINPUT     8
  193: R            REDUCE
  194: q            BINPUT     9
  196: }            EMPTY_DICT
  197: q            BINPUT     10
  199: (            MARK
  200: X                BINUNICODE 'foo'
  208: q                BINPUT     11
  210: K                BININT1    1
  212: X                BINUNICODE 'bar'
  220: q                BINPUT     12
  222: K                BININT1    2
  224: u                SETITEMS   (MARK at 199)
  225: b            BUILD
  226: h            BINGET     9
  228: t            TUPLE      (MARK at 112)
  229: q        BINPUT     13
  231: h        BINGET     13
  233: K        BININT1    5
  235: e        APPENDS    (MARK at 3)
  236: .    STOP
highest protocol among opcodes = 1
)"sv;

inline constexpr std::string_view kData2Dis = R"(    0: \x80 PROTO      2
    2: ]    EMPTY_LIST
    3: q    BINPUT     0
    5: (    MARK
    6: K        BININT1    0
    8: K        BININT1    1
   10: G        BINFLOAT   2.0
   19: c        GLOBAL     '__builtin__ complex'
   40: q        BINPUT     1
   42: G        BINFLOAT   3.0
   51: G        BINFLOAT   0.0
   60: \x86     TUPLE2
   61: q        BINPUT     2
   63: R        REDUCE
   64: q        BINPUT     3
   66: K        BININT1    1
   68: J        BININT     -1
   73: K        BININT1    255
   75: J        BININT     -255
   80: J        BININT     -256
   85: M        BININT2    65535
   88: J        BININT     -65535
   93: J        BININT     -65536
   98: J        BININT     2147483647
  103: J        BININT     -2147483647
  108: J        BININT     -2147483648
  113: (        MARK
  114: X            BINUNICODE 'abc'
  122: q            BINPUT     4
  124: h            BINGET     4
  126: c            GLOBAL     '__main__ C'
  138: q            BINPUT     5
  140: )            EMPTY_TUPLE
  141: \x81         NEWOBJ
  142: q            BINPUT     6
  144: }            EMPTY_DICT
  145: q            BINPUT     7
  147: (            MARK
  148: X                BINUNICODE 'foo'
  156: q                BINPUT     8
  158: K                BININT1    1
  160: X                BINUNICODE 'bar'
  168: q                BINPUT     9
  170: K                BININT1    2
  172: u                SETITEMS   (MARK at 147)
  173: b            BUILD
  174: h            BINGET     6
  176: t            TUPLE      (MARK at 113)
  177: q        BINPUT     10
  179: h        BINGET     10
  181: K        BININT1    5
  183: e        APPENDS    (MARK at 5)
  184: .    STOP
highest protocol among opcodes = 2
)"sv;

inline constexpr std::string_view kData3Dis = R"(    0: \x80 PROTO      3
    2: ]    EMPTY_LIST
    3: q    BINPUT     0
    5: (    MARK
    6: K        BININT1    0
    8: K        BININT1    1
   10: G        BINFLOAT   2.0
   19: c        GLOBAL     'builtins complex'
   37: q        BINPUT     1
   39: G        BINFLOAT   3.0
   48: G        BINFLOAT   0.0
   57: \x86     TUPLE2
   58: q        BINPUT     2
   60: R        REDUCE
   61: q        BINPUT     3
   63: K        BININT1    1
   65: J        BININT     -1
   70: K        BININT1    255
   72: J        BININT     -255
   77: J        BININT     -256
   82: M        BININT2    65535
   85: J        BININT     -65535
   90: J        BININT     -65536
   95: J        BININT     2147483647
  100: J        BININT     -2147483647
  105: J        BININT     -2147483648
  110: (        MARK
  111: X            BINUNICODE 'abc'
  119: q            BINPUT     4
  121: h            BINGET     4
  123: c            GLOBAL     '__main__ C'
  135: q            BINPUT     5
  137: )            EMPTY_TUPLE
  138: \x81         NEWOBJ
  139: q            BINPUT     6
  141: }            EMPTY_DICT
  142: q            BINPUT     7
  144: (            MARK
  145: X                BINUNICODE 'bar'
  153: q                BINPUT     8
  155: K                BININT1    2
  157: X                BINUNICODE 'foo'
  165: q                BINPUT     9
  167: K                BININT1    1
  169: u                SETITEMS   (MARK at 144)
  170: b            BUILD
  171: h            BINGET     6
  173: t            TUPLE      (MARK at 110)
  174: q        BINPUT     10
  176: h        BINGET     10
  178: K        BININT1    5
  180: e        APPENDS    (MARK at 5)
  181: .    STOP
highest protocol among opcodes = 2
)"sv;

inline constexpr std::string_view kData4Dis = R"(    0: \x80 PROTO      4
    2: \x95 FRAME      168
   11: ]    EMPTY_LIST
   12: \x94 MEMOIZE    (as 0)
   13: (    MARK
   14: K        BININT1    0
   16: K        BININT1    1
   18: G        BINFLOAT   2.0
   27: \x8c     SHORT_BINUNICODE 'builtins'
   37: \x94     MEMOIZE    (as 1)
   38: \x8c     SHORT_BINUNICODE 'complex'
   47: \x94     MEMOIZE    (as 2)
   48: \x93     STACK_GLOBAL
   49: \x94     MEMOIZE    (as 3)
   50: G        BINFLOAT   3.0
   59: G        BINFLOAT   0.0
   68: \x86     TUPLE2
   69: \x94     MEMOIZE    (as 4)
   70: R        REDUCE
   71: \x94     MEMOIZE    (as 5)
   72: K        BININT1    1
   74: J        BININT     -1
   79: K        BININT1    255
   81: J        BININT     -255
   86: J        BININT     -256
   91: M        BININT2    65535
   94: J        BININT     -65535
   99: J        BININT     -65536
  104: J        BININT     2147483647
  109: J        BININT     -2147483647
  114: J        BININT     -2147483648
  119: (        MARK
  120: \x8c         SHORT_BINUNICODE 'abc'
  125: \x94         MEMOIZE    (as 6)
  126: h            BINGET     6
  128: \x8c         SHORT_BINUNICODE '__main__'
  138: \x94         MEMOIZE    (as 7)
  139: \x8c         SHORT_BINUNICODE 'C'
  142: \x94         MEMOIZE    (as 8)
  143: \x93         STACK_GLOBAL
  144: \x94         MEMOIZE    (as 9)
  145: )            EMPTY_TUPLE
  146: \x81         NEWOBJ
  147: \x94         MEMOIZE    (as 10)
  148: }            EMPTY_DICT
  149: \x94         MEMOIZE    (as 11)
  150: (            MARK
  151: \x8c             SHORT_BINUNICODE 'bar'
  156: \x94             MEMOIZE    (as 12)
  157: K                BININT1    2
  159: \x8c             SHORT_BINUNICODE 'foo'
  164: \x94             MEMOIZE    (as 13)
  165: K                BININT1    1
  167: u                SETITEMS   (MARK at 150)
  168: b            BUILD
  169: h            BINGET     10
  171: t            TUPLE      (MARK at 119)
  172: \x94     MEMOIZE    (as 14)
  173: h        BINGET     14
  175: K        BININT1    5
  177: e        APPENDS    (MARK at 13)
  178: .    STOP
highest protocol among opcodes = 4
)"sv;

inline constexpr PickletesterCase kPickletesterCases[] = {
    {"DATA0", kData0Bytes, kData0Dis},     {"DATA1", kData1Bytes, kData1Dis},
    {"DATA2", kData2Bytes, kData2Dis},     {"DATA3", kData3Bytes, kData3Dis},
    {"DATA4", kData4Bytes, kData4Dis},     {"DATA_SET", kDataSetBytes, {}},
    {"DATA_XRANGE", kDataXrangeBytes, {}}, {"DATA_COOKIE", kDataCookieBytes, {}},
    {"DATA_SET2", kDataSet2Bytes, {}},     {"DATA_UEERR", kDataUeerrBytes, {}},
};

}  // namespace ouro::pickle::testdata
