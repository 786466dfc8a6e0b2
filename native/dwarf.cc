// DWARF → compact type index (see dwarf.h). libdw walks the DIEs; we keep only what TypeInfo
// needs and deduplicate as we go, because kernel DWARF repeats every header type in every CU
// (2000+ copies of struct task_struct in a 6.1 vmlinux).
//
// Dedup, kept simple:
//  - a named struct/union/enum definition is keyed by (kind, name, size, member names + bit
//    offsets/sizes | enumerators), not by member types, so recursive types need no graph hashing;
//    its member types are resolved once, for the first copy only (a deferred work list);
//  - every other type (base, pointer, typedef, qualifier, array, function, anonymous aggregate)
//    is keyed by its own fields plus the canonical ids of the types it refers to;
//  - after the walk, forward declarations are pointed at the first definition of that name and
//    the non-named types are keyed again, which merges e.g. `struct rq *` made in a CU that only
//    declared struct rq with the one made where it was defined; then ids are made dense.
//
// Index layout (little-endian; all counts checked by the reader):
//   header 64 B: magic "VAATDWF1", u32 version, u32 pointerSize, u32 flags (1: inlines table,
//     2: big-endian target), u32 nTypes (id 0 = void), nItems, nVars, nFuncs, nInlines,
//     strBytes, buildId (string offset or 0xffffffff), 16 B reserved
//   types   24 B: u8 kind, u8 flags, u16 aux, u32 name, u32 size, u32 ref, u32 first, u32 count
//   items   16 B: u32 name, u32 type, u32 a, u32 b   (member: a = bit offset, b = bit size or 0;
//                 parameter: a = b = 0; enumerator: a/b = low/high 32 bits of the value)
//   vars    32 B: u32 name, u32 type, u32 flags, u32 section name, u64 address, u64 section offset
//   funcs   24 B: u32 name, u32 type, u32 flags, u32 0, u64 address
//   inlines 24 B: u64 low pc, u64 high pc (exclusive), u32 name, u32 depth   (sorted by low pc)
//   strings: NUL-terminated, offset 0 is the empty string (no name)
#include "dwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <unordered_map>

namespace vaat {
namespace {

constexpr char kMagic[8] = {'V', 'A', 'A', 'T', 'D', 'W', 'F', '1'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kNone = 0xffffffffu;
constexpr uint32_t kInProgress = 0xfffffffeu;
constexpr int kMaxDepth = 200;  // type expressions nest far less in real code; deeper is a loop

enum Kind : uint8_t { kVoid, kInt, kFloat, kPtr, kArray, kStruct, kUnion, kEnum, kFwd, kTypedef, kQual, kFunc };
enum : uint8_t { fSigned = 1, fChar = 2, fBool = 4, fVariadic = 8 };
enum : uint32_t { vStatic = 0, vGlobal = 1, vExtern = 2, vHasAddr = 4, vHasSection = 8 };

struct TypeRec {
  uint8_t kind = 0, flags = 0;
  uint16_t aux = 0;  // qualifier: 0 const 1 volatile 2 restrict 3 _Atomic; fwd: 0 struct 1 union 2 enum
  uint32_t name = 0, size = 0, ref = 0, first = 0, count = 0;
};
struct Item { uint32_t name, type, a, b; };
struct VarRec { uint32_t name, type, flags, section; uint64_t addr, secOffset; int rank; };
struct FuncRec { uint32_t name, type, flags; uint64_t addr; int rank; };
struct InlineRec { uint64_t lo, hi; uint32_t name, depth; };

// ---- small helpers ------------------------------------------------------------------------------

std::string dieWhere(Dwarf_Die* d) {
  char b[48];
  std::snprintf(b, sizeof b, "DIE 0x%llx", static_cast<unsigned long long>(dwarf_dieoffset(d)));
  return b;
}

[[noreturn]] void corrupt(Dwarf_Die* d, const std::string& what) {
  std::string msg = "corrupt DWARF: " + (d ? dieWhere(d) + ": " : std::string()) + what;
  int e = dwarf_errno();
  if (e) msg += std::string(" (libdw: ") + dwarf_errmsg(e) + ")";
  throw DwarfError("CORRUPT", msg);
}

uint32_t u32Checked(uint64_t v, Dwarf_Die* d, const char* what) {
  if (v > 0xfffffff0u) corrupt(d, std::string(what) + " " + std::to_string(v) + " is out of range");
  return static_cast<uint32_t>(v);
}

// The attributes we read, collected in one pass over a DIE (dwarf_attr would rescan per attribute).
struct Attrs {
  enum Slot {
    Name, Type, ByteSize, BitSize, MemberLoc, DataBitOffset, BitOffset, Encoding, Declaration, External,
    UpperBound, Count, ConstValue, Specification, AbstractOrigin, Location, NSlots
  };
  Dwarf_Attribute a[NSlots];
  uint32_t has = 0;
  bool is(Slot s) const { return (has >> s) & 1; }
};

int collectAttr(Dwarf_Attribute* attr, void* arg) {
  auto* A = static_cast<Attrs*>(arg);
  int s;
  switch (attr->code) {
    case DW_AT_name: s = Attrs::Name; break;
    case DW_AT_type: s = Attrs::Type; break;
    case DW_AT_byte_size: s = Attrs::ByteSize; break;
    case DW_AT_bit_size: s = Attrs::BitSize; break;
    case DW_AT_data_member_location: s = Attrs::MemberLoc; break;
    case DW_AT_data_bit_offset: s = Attrs::DataBitOffset; break;
    case DW_AT_bit_offset: s = Attrs::BitOffset; break;
    case DW_AT_encoding: s = Attrs::Encoding; break;
    case DW_AT_declaration: s = Attrs::Declaration; break;
    case DW_AT_external: s = Attrs::External; break;
    case DW_AT_upper_bound: s = Attrs::UpperBound; break;
    case DW_AT_count: s = Attrs::Count; break;
    case DW_AT_const_value: s = Attrs::ConstValue; break;
    case DW_AT_specification: s = Attrs::Specification; break;
    case DW_AT_abstract_origin: s = Attrs::AbstractOrigin; break;
    case DW_AT_location: s = Attrs::Location; break;
    default: return DWARF_CB_OK;
  }
  A->a[s] = *attr;
  A->has |= 1u << s;
  return DWARF_CB_OK;
}

void readAttrs(Dwarf_Die* d, Attrs& A) {
  A.has = 0;
  if (dwarf_getattrs(d, collectAttr, &A, 0) == -1) corrupt(d, "unreadable attributes");
}

uint64_t udata(Dwarf_Die* d, Attrs& A, Attrs::Slot s) {
  Dwarf_Word v;
  if (dwarf_formudata(&A.a[s], &v) != 0) corrupt(d, "attribute 0x" + std::to_string(A.a[s].code) + " is not a constant");
  return v;
}

bool flagAttr(Dwarf_Die* d, Attrs& A, Attrs::Slot s) {
  if (!A.is(s)) return false;
  bool b;
  if (dwarf_formflag(&A.a[s], &b) != 0) corrupt(d, "bad flag attribute");
  return b;
}

const char* nameOf(Dwarf_Die* d, Attrs& A) {
  if (!A.is(Attrs::Name)) return nullptr;
  const char* s = dwarf_formstring(&A.a[Attrs::Name]);
  if (!s) corrupt(d, "unreadable name");
  return *s ? s : nullptr;
}

bool isConstantForm(unsigned form) {
  switch (form) {
    case DW_FORM_data1: case DW_FORM_data2: case DW_FORM_data4: case DW_FORM_data8:
    case DW_FORM_udata: case DW_FORM_sdata: case DW_FORM_implicit_const:
      return true;
    default:
      return false;
  }
}

int formBytes(unsigned form) {
  switch (form) {
    case DW_FORM_data1: return 1;
    case DW_FORM_data2: return 2;
    case DW_FORM_data4: return 4;
    default: return 8;
  }
}

// Open-addressing map from a DIE's address in the mapped section to a type id. clear() only
// touches used slots: one map serves all 2000+ CUs without re-zeroing its whole table each time.
class DieMap {
 public:
  DieMap() { slots_.resize(1024); }
  uint32_t get(uintptr_t k) const {
    for (size_t i = hash(k);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].key == k) return slots_[i].val;
      if (slots_[i].key == 0) return kNone;
    }
  }
  void put(uintptr_t k, uint32_t v) {
    if ((used_.size() + 1) * 2 > slots_.size()) grow();
    size_t i = hash(k);
    while (slots_[i].key != 0 && slots_[i].key != k) i = (i + 1) & (slots_.size() - 1);
    if (slots_[i].key == 0) used_.push_back(uint32_t(i));
    slots_[i] = {k, v};
  }
  void clear() {
    for (uint32_t i : used_) slots_[i].key = 0;
    used_.clear();
  }

 private:
  struct Slot { uintptr_t key; uint32_t val; };
  size_t hash(uintptr_t k) const { return size_t((uint64_t(k) * 0x9E3779B97F4A7C15ull) >> 20) & (slots_.size() - 1); }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, Slot{0, 0});
    std::vector<uint32_t> oldUsed;
    oldUsed.swap(used_);
    for (uint32_t i : oldUsed) put(old[i].key, old[i].val);
  }
  std::vector<Slot> slots_;
  std::vector<uint32_t> used_;
};

struct RawMember {
  const char* name;
  uint64_t bitOffset, bitSize;
  bool hasType;
  Dwarf_Die type;
};

struct ElfSection { std::string_view name; uint64_t addr, size; uint32_t index; };

// ---- the walk ------------------------------------------------------------------------------------

class Extractor {
 public:
  Extractor(bool bigEndian, bool inlines) : bigEndian_(bigEndian), inlines_(inlines) {
    strtab_.push_back('\0');
    types_.push_back(TypeRec{});  // id 0: void
    intern_.reserve(1 << 18);
    scratch_.resize(kMaxDepth + 2);  // never resized later: compound() holds references into it
  }

  void run(Dwarf* dw, DwarfIndexStats& stats) {
    Dwarf_CU* cu = nullptr;
    Dwarf_Half version;
    uint8_t unitType;
    Dwarf_Die cudie;
    for (;;) {
      int r = dwarf_get_units(dw, cu, &cu, &version, &unitType, &cudie, nullptr);
      if (r == 1) break;
      if (r != 0) corrupt(nullptr, "unreadable unit header");
      if (unitType != DW_UT_compile && unitType != DW_UT_partial) continue;
      stats.cus++;
      cu_ = cudie.cu;
      local_.clear();
      walkUnit(&cudie);
    }
  }

  // Point declarations at definitions, merge what became identical, renumber densely.
  void finalize(DwarfIndexStats& stats);

  std::vector<uint8_t> serialize(uint32_t pointerSize, const std::string& buildId, const std::vector<ElfSection>& sections,
                                 DwarfIndexStats& stats);

 private:
  // -- strings and interning --
  uint32_t str(std::string_view s) {
    if (s.empty()) return 0;
    auto it = strIndex_.find(s);
    if (it != strIndex_.end()) return it->second;
    if (strtab_.size() + s.size() + 1 > 0xfffffff0u) throw DwarfError("CORRUPT", "string table over 4 GiB");
    uint32_t off = uint32_t(strtab_.size());
    strtab_.insert(strtab_.end(), s.begin(), s.end());
    strtab_.push_back('\0');
    strIndex_.emplace(s, off);  // views point into libdw's mapped sections, alive until we finish
    return off;
  }
  uint32_t str(const char* s) { return s ? str(std::string_view(s)) : 0; }

  void key8(uint8_t v) { key_.push_back(char(v)); }
  void key32(uint32_t v) { key_.append(reinterpret_cast<const char*>(&v), 4); }
  void key64(uint64_t v) { key_.append(reinterpret_cast<const char*>(&v), 8); }
  void keyStr(const char* s) {
    if (s) key_.append(s);
    key_.push_back('\0');
  }

  // The id for key_, adding rec when the key is new.
  std::pair<uint32_t, bool> intern(const TypeRec& rec) {
    auto [it, inserted] = intern_.try_emplace(key_, uint32_t(types_.size()));
    if (inserted) {
      if (types_.size() >= 0xfffffff0u) throw DwarfError("CORRUPT", "more than 4G types");
      types_.push_back(rec);
    }
    return {it->second, inserted};
  }

  // -- types --
  uint32_t typeOf(Dwarf_Die* d, Attrs& A, int depth) {
    if (!A.is(Attrs::Type)) return 0;  // no DW_AT_type: void
    Dwarf_Die t;
    if (!dwarf_formref_die(&A.a[Attrs::Type], &t)) corrupt(d, "DW_AT_type does not point at a DIE");
    return canon(&t, depth + 1);
  }

  uint32_t canon(Dwarf_Die* d, int depth) {
    DieMap& memo = d->cu == cu_ ? local_ : global_;
    uintptr_t k = reinterpret_cast<uintptr_t>(d->addr);
    uint32_t hit = memo.get(k);
    if (hit == kInProgress) corrupt(d, "a type refers to itself without a named struct in between");
    if (hit != kNone) return hit;
    if (depth > kMaxDepth) corrupt(d, "types nest deeper than " + std::to_string(kMaxDepth));
    memo.put(k, kInProgress);
    uint32_t id = build(d, depth);
    memo.put(k, id);
    return id;
  }

  uint32_t build(Dwarf_Die* d, int depth) {
    Attrs A;
    readAttrs(d, A);
    int tag = dwarf_tag(d);
    switch (tag) {
      case DW_TAG_base_type: return baseType(d, A);
      case DW_TAG_pointer_type: case DW_TAG_reference_type: case DW_TAG_rvalue_reference_type: {
        uint32_t target = typeOf(d, A, depth);
        key_.clear(); key8('P'); key32(target);
        TypeRec r; r.kind = kPtr; r.ref = target;
        return intern(r).first;
      }
      case DW_TAG_const_type: case DW_TAG_volatile_type: case DW_TAG_restrict_type: case DW_TAG_atomic_type: {
        uint16_t q = tag == DW_TAG_const_type ? 0 : tag == DW_TAG_volatile_type ? 1 : tag == DW_TAG_restrict_type ? 2 : 3;
        uint32_t target = typeOf(d, A, depth);
        key_.clear(); key8('Q'); key8(uint8_t(q)); key32(target);
        TypeRec r; r.kind = kQual; r.aux = q; r.ref = target;
        return intern(r).first;
      }
      case DW_TAG_typedef: {
        const char* name = nameOf(d, A);
        uint32_t target = typeOf(d, A, depth);
        if (!name) return target;  // a nameless typedef adds nothing
        key_.clear(); key8('T'); keyStr(name); key32(target);
        TypeRec r; r.kind = kTypedef; r.ref = target;
        auto [id, fresh] = intern(r);
        if (fresh) types_[id].name = str(name);
        return id;
      }
      case DW_TAG_array_type: return arrayType(d, A, depth);
      case DW_TAG_subroutine_type: return proto(d, A, depth, false);
      case DW_TAG_structure_type: case DW_TAG_class_type: case DW_TAG_union_type:
        return compound(d, A, tag == DW_TAG_union_type ? kUnion : kStruct, depth);
      case DW_TAG_enumeration_type: return enumType(d, A);
      default: return 0;  // DW_TAG_unspecified_type and what C has no use for: void
    }
  }

  uint32_t baseType(Dwarf_Die* d, Attrs& A) {
    const char* name = nameOf(d, A);
    if (!A.is(Attrs::ByteSize)) corrupt(d, "base type without a size");
    uint64_t size = udata(d, A, Attrs::ByteSize);
    if (size == 0 || size > 64) corrupt(d, "base type of " + std::to_string(size) + " bytes");
    uint64_t enc = A.is(Attrs::Encoding) ? udata(d, A, Attrs::Encoding) : 0;
    uint64_t bits = A.is(Attrs::BitSize) ? udata(d, A, Attrs::BitSize) : size * 8;
    if (bits == 0 || bits > size * 8) bits = size * 8;
    bool isFloat = enc == DW_ATE_float || enc == DW_ATE_complex_float || enc == DW_ATE_decimal_float || enc == DW_ATE_imaginary_float;
    key_.clear(); key8('B'); keyStr(name); key32(uint32_t(size)); key32(uint32_t(enc)); key32(uint32_t(bits));
    TypeRec r;
    r.kind = isFloat ? kFloat : kInt;
    r.size = uint32_t(size);
    r.ref = uint32_t(bits);
    if (enc == DW_ATE_signed || enc == DW_ATE_signed_char || enc == DW_ATE_signed_fixed) r.flags |= fSigned;
    if (enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char) r.flags |= fChar;
    if (enc == DW_ATE_boolean) r.flags |= fBool;
    auto [id, fresh] = intern(r);
    if (fresh) types_[id].name = str(name);
    return id;
  }

  // Length of one subrange; 0 for a flexible or variable-length dimension.
  uint32_t subrangeLength(Dwarf_Die* s) {
    Attrs S;
    readAttrs(s, S);
    if (S.is(Attrs::Count)) {
      if (!isConstantForm(S.a[Attrs::Count].form)) return 0;  // VLA: an expression or a variable
      return u32Checked(udata(s, S, Attrs::Count), s, "array length");
    }
    if (!S.is(Attrs::UpperBound) || !isConstantForm(S.a[Attrs::UpperBound].form)) return 0;
    unsigned form = S.a[Attrs::UpperBound].form;
    uint64_t ub = udata(s, S, Attrs::UpperBound);
    // An upper bound of -1 (in whatever width) is how some producers spell `x[0]`.
    int bytes = formBytes(form);
    if (form == DW_FORM_sdata) {
      Dwarf_Sword sv;
      if (dwarf_formsdata(&S.a[Attrs::UpperBound], &sv) != 0) corrupt(s, "bad upper bound");
      if (sv < 0) return 0;
      ub = uint64_t(sv);
    } else if (bytes < 8 && ub == (uint64_t(1) << (bytes * 8)) - 1) {
      return 0;
    } else if (ub == ~uint64_t(0)) {
      return 0;
    }
    return u32Checked(ub + 1, s, "array length");
  }

  uint32_t arrayType(Dwarf_Die* d, Attrs& A, int depth) {
    uint32_t elem = typeOf(d, A, depth);
    uint32_t dims[64];
    int nd = 0;
    Dwarf_Die c;
    int r = dwarf_child(d, &c);
    if (r < 0) corrupt(d, "unreadable array dimensions");
    for (; r == 0; r = dwarf_siblingof(&c, &c)) {
      if (dwarf_tag(&c) != DW_TAG_subrange_type) continue;
      if (nd == 64) corrupt(d, "array with more than 64 dimensions");
      dims[nd++] = subrangeLength(&c);
    }
    if (r < 0) corrupt(d, "unreadable array dimensions");
    if (nd == 0) dims[nd++] = 0;
    // int a[2][3] is an array of 2 arrays of 3 ints: build from the innermost dimension out.
    uint32_t id = elem;
    for (int i = nd - 1; i >= 0; i--) {
      key_.clear(); key8('A'); key32(dims[i]); key32(id);
      TypeRec t; t.kind = kArray; t.size = dims[i]; t.ref = id;
      id = intern(t).first;
    }
    return id;
  }

  // A function type, from DW_TAG_subroutine_type or a subprogram (whose parameters have names).
  uint32_t proto(Dwarf_Die* d, Attrs& A, int depth, bool names) {
    uint32_t ret = typeOf(d, A, depth);
    std::vector<std::pair<const char*, uint32_t>> params;
    bool variadic = false;
    Dwarf_Die c;
    int r = dwarf_child(d, &c);
    if (r < 0) corrupt(d, "unreadable parameters");
    for (; r == 0; r = dwarf_siblingof(&c, &c)) {
      int tag = dwarf_tag(&c);
      if (tag == DW_TAG_unspecified_parameters) { variadic = true; continue; }
      if (tag != DW_TAG_formal_parameter) continue;
      Attrs P;
      readAttrs(&c, P);
      params.emplace_back(names ? nameOf(&c, P) : nullptr, typeOf(&c, P, depth));
    }
    if (r < 0) corrupt(d, "unreadable parameters");
    key_.clear(); key8('F'); key32(ret); key8(variadic); key32(uint32_t(params.size()));
    for (auto& p : params) { key32(p.second); keyStr(p.first); }
    TypeRec t; t.kind = kFunc; t.ref = ret; t.flags = variadic ? fVariadic : 0;
    auto [id, fresh] = intern(t);
    if (fresh) {
      types_[id].first = uint32_t(items_.size());
      types_[id].count = uint32_t(params.size());
      for (auto& p : params) items_.push_back({str(p.first), p.second, 0, 0});
    }
    return id;
  }

  // Storage-unit size for an old-style (DW_AT_bit_offset) bitfield: its type's byte size.
  uint64_t storageBytes(Dwarf_Die* m, RawMember& rm) {
    if (!rm.hasType) corrupt(m, "bitfield without a type");
    Dwarf_Die peeled;
    if (dwarf_peel_type(&rm.type, &peeled) != 0) corrupt(m, "bitfield type does not resolve");
    Dwarf_Word size;
    if (dwarf_aggregate_size(&peeled, &size) != 0) corrupt(m, "bitfield type has no size");
    return size;
  }

  void readMember(Dwarf_Die* m, RawMember& rm) {
    Attrs M;
    readAttrs(m, M);
    rm.name = nameOf(m, M);
    rm.hasType = M.is(Attrs::Type);
    if (rm.hasType && !dwarf_formref_die(&M.a[Attrs::Type], &rm.type)) corrupt(m, "member type does not point at a DIE");
    uint64_t byteOff = 0;
    if (M.is(Attrs::MemberLoc)) {
      Dwarf_Attribute& loc = M.a[Attrs::MemberLoc];
      if (isConstantForm(loc.form)) {
        byteOff = udata(m, M, Attrs::MemberLoc);
      } else {
        // DWARF 2 spells the offset as an expression: DW_OP_plus_uconst N.
        Dwarf_Op* ops;
        size_t n;
        if (dwarf_getlocation(&loc, &ops, &n) != 0 || n != 1 ||
            (ops[0].atom != DW_OP_plus_uconst && ops[0].atom != DW_OP_constu))
          corrupt(m, "member location is not a constant offset");
        byteOff = ops[0].number;
      }
    }
    if (byteOff > 0x1fffffffu) corrupt(m, "member offset " + std::to_string(byteOff) + " is out of range");
    rm.bitSize = M.is(Attrs::BitSize) ? udata(m, M, Attrs::BitSize) : 0;
    if (rm.bitSize > 0xffff) corrupt(m, "bitfield of " + std::to_string(rm.bitSize) + " bits");
    if (M.is(Attrs::DataBitOffset)) {
      // DWARF 4+: bits from the start of the containing struct, whatever the byte order.
      rm.bitOffset = udata(m, M, Attrs::DataBitOffset);
    } else if (M.is(Attrs::BitOffset) && rm.bitSize) {
      // DWARF 2/3: counted from the most significant bit of a storage unit at byteOff.
      uint64_t unit = M.is(Attrs::ByteSize) ? udata(m, M, Attrs::ByteSize) : storageBytes(m, rm);
      uint64_t bo = udata(m, M, Attrs::BitOffset);
      if (bo + rm.bitSize > unit * 8) corrupt(m, "bitfield does not fit its storage unit");
      rm.bitOffset = byteOff * 8 + (bigEndian_ ? bo : unit * 8 - bo - rm.bitSize);
    } else {
      rm.bitOffset = byteOff * 8;
    }
    if (rm.bitOffset > 0xfffffff0u) corrupt(m, "member bit offset out of range");
  }

  uint32_t compound(Dwarf_Die* d, Attrs& A, Kind kind, int depth) {
    const char* name = nameOf(d, A);
    if (flagAttr(d, A, Attrs::Declaration) || !A.is(Attrs::ByteSize)) {
      if (!name) return 0;  // an anonymous declaration names nothing
      key_.clear(); key8('D'); key8(kind); keyStr(name);
      TypeRec r; r.kind = kFwd; r.aux = kind == kUnion ? 1 : 0;
      auto [id, fresh] = intern(r);
      if (fresh) types_[id].name = str(name);
      return id;
    }
    uint32_t size = u32Checked(udata(d, A, Attrs::ByteSize), d, "struct size");
    std::vector<RawMember>& ms = scratch_.at(size_t(depth));  // one buffer per depth: nested calls use their own
    ms.clear();
    Dwarf_Die c;
    int r = dwarf_child(d, &c);
    if (r < 0) corrupt(d, "unreadable members");
    for (; r == 0; r = dwarf_siblingof(&c, &c)) {
      if (dwarf_tag(&c) != DW_TAG_member) continue;
      RawMember rm;
      readMember(&c, rm);
      // A flexible array member starts at the end; anything starting past it is corrupt.
      if (rm.bitOffset > uint64_t(size) * 8) corrupt(&c, "member lies beyond the struct's " + std::to_string(size) + " bytes");
      ms.push_back(rm);
    }
    if (r < 0) corrupt(d, "unreadable members");
    uint32_t n = uint32_t(ms.size());

    if (name) {
      key_.clear(); key8(kind == kUnion ? 'U' : 'S'); keyStr(name); key32(size); key32(n);
      for (auto& m : ms) { keyStr(m.name); key32(uint32_t(m.bitOffset)); key32(uint32_t(m.bitSize)); }
      TypeRec t; t.kind = kind; t.size = size;
      auto [id, fresh] = intern(t);
      if (fresh) {
        types_[id].name = str(name);
        types_[id].first = uint32_t(items_.size());
        types_[id].count = n;
        Pending p;
        p.first = uint32_t(items_.size());
        for (auto& m : ms) {
          items_.push_back({str(m.name), 0, uint32_t(m.bitOffset), uint32_t(m.bitSize)});
          p.types.push_back(m.type);
          p.hasType.push_back(m.hasType);
        }
        pending_.push_back(std::move(p));  // member types later: a struct may point at itself
      }
      return id;
    }
    // Anonymous: identity is the layout plus the member types.
    std::vector<uint32_t> types(n);
    for (uint32_t i = 0; i < n; i++) types[i] = ms[i].hasType ? canon(&ms[i].type, depth + 1) : 0;
    key_.clear(); key8(kind == kUnion ? 'u' : 's'); key32(size); key32(n);
    for (uint32_t i = 0; i < n; i++) {
      keyStr(ms[i].name); key32(uint32_t(ms[i].bitOffset)); key32(uint32_t(ms[i].bitSize)); key32(types[i]);
    }
    TypeRec t; t.kind = kind; t.size = size;
    auto [id, fresh] = intern(t);
    if (fresh) {
      types_[id].first = uint32_t(items_.size());
      types_[id].count = n;
      for (uint32_t i = 0; i < n; i++)
        items_.push_back({str(ms[i].name), types[i], uint32_t(ms[i].bitOffset), uint32_t(ms[i].bitSize)});
    }
    return id;
  }

  uint32_t enumType(Dwarf_Die* d, Attrs& A) {
    const char* name = nameOf(d, A);
    if (flagAttr(d, A, Attrs::Declaration)) {
      if (!name) return 0;
      key_.clear(); key8('D'); key8(kEnum); keyStr(name);
      TypeRec r; r.kind = kFwd; r.aux = 2;
      auto [id, fresh] = intern(r);
      if (fresh) types_[id].name = str(name);
      return id;
    }
    uint64_t size = A.is(Attrs::ByteSize) ? udata(d, A, Attrs::ByteSize) : 4;
    if (size == 0 || size > 8) corrupt(d, "enum of " + std::to_string(size) + " bytes");
    // Signedness from the underlying type when given (DWARF 3+), else from the constants.
    int sign = -1;
    if (A.is(Attrs::Type)) {
      Dwarf_Die t, peeled;
      if (dwarf_formref_die(&A.a[Attrs::Type], &t) && dwarf_peel_type(&t, &peeled) == 0) {
        Attrs B;
        readAttrs(&peeled, B);
        if (B.is(Attrs::Encoding)) {
          uint64_t enc = udata(&peeled, B, Attrs::Encoding);
          sign = enc == DW_ATE_signed || enc == DW_ATE_signed_char;
        }
      }
    }
    struct Raw { const char* name; uint64_t value; unsigned form; };
    std::vector<Raw> es;
    bool anyNegative = false;
    Dwarf_Die c;
    int r = dwarf_child(d, &c);
    if (r < 0) corrupt(d, "unreadable enumerators");
    for (; r == 0; r = dwarf_siblingof(&c, &c)) {
      if (dwarf_tag(&c) != DW_TAG_enumerator) continue;
      Attrs E;
      readAttrs(&c, E);
      const char* en = nameOf(&c, E);
      if (!en || !E.is(Attrs::ConstValue)) corrupt(&c, "enumerator without a name or value");
      unsigned form = E.a[Attrs::ConstValue].form;
      uint64_t v;
      if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
        Dwarf_Sword sv;
        if (dwarf_formsdata(&E.a[Attrs::ConstValue], &sv) != 0) corrupt(&c, "bad enumerator value");
        v = uint64_t(sv);
        if (sv < 0) anyNegative = true;
      } else {
        v = udata(&c, E, Attrs::ConstValue);
      }
      es.push_back({en, v, form});
    }
    if (r < 0) corrupt(d, "unreadable enumerators");
    bool isSigned = sign == -1 ? anyNegative : sign == 1;
    for (auto& e : es) {
      // Fixed-width forms carry raw bits: widen a signed value from the form's width.
      int bytes = formBytes(e.form);
      if (isSigned && bytes < 8) {
        int shift = 64 - bytes * 8;
        e.value = uint64_t(int64_t(e.value << shift) >> shift);
      }
    }
    key_.clear(); key8('E'); keyStr(name); key32(uint32_t(size)); key8(isSigned); key32(uint32_t(es.size()));
    for (auto& e : es) { keyStr(e.name); key64(e.value); }
    TypeRec t; t.kind = kEnum; t.size = uint32_t(size); t.flags = isSigned ? fSigned : 0;
    auto [id, fresh] = intern(t);
    if (fresh) {
      types_[id].name = str(name);
      types_[id].first = uint32_t(items_.size());
      types_[id].count = uint32_t(es.size());
      for (auto& e : es) items_.push_back({str(e.name), 0, uint32_t(e.value), uint32_t(e.value >> 32)});
    }
    return id;
  }

  void drainPending() {
    while (!pending_.empty()) {
      Pending p = std::move(pending_.back());
      pending_.pop_back();
      for (size_t i = 0; i < p.types.size(); i++)
        items_[p.first + i].type = p.hasType[i] ? canon(&p.types[i], 1) : 0;
    }
  }

  // -- symbols --
  void variable(Dwarf_Die* d) {
    Attrs A, S;
    readAttrs(d, A);
    Attrs* from = &A;  // name/type/external: from the declaration a definition completes, if any
    Dwarf_Die spec;
    if (A.is(Attrs::Specification)) {
      if (!dwarf_formref_die(&A.a[Attrs::Specification], &spec)) corrupt(d, "bad DW_AT_specification");
      readAttrs(&spec, S);
      from = &S;
    }
    const char* name = nameOf(d, A.is(Attrs::Name) ? A : *from);
    if (!name) return;
    bool decl = flagAttr(d, A, Attrs::Declaration);
    bool ext = flagAttr(d, A, Attrs::External) || (from != &A && flagAttr(&spec, S, Attrs::External));
    uint64_t addr = 0;
    bool hasAddr = false;
    if (!decl && A.is(Attrs::Location)) {
      Dwarf_Op* ops;
      size_t n;
      // Location lists (optimised-out statics) make dwarf_getlocation fail: no fixed address.
      if (dwarf_getlocation(&A.a[Attrs::Location], &ops, &n) == 0 && n == 1 && ops[0].atom == DW_OP_addr) {
        addr = ops[0].number;
        hasAddr = true;
      }
    }
    int rank = decl ? 0 : hasAddr ? (ext ? 3 : 2) : 1;
    std::string_view key(name);
    auto it = varIndex_.find(key);
    if (it != varIndex_.end() && vars_[it->second].rank >= rank) return;
    Dwarf_Die* typeDie = A.is(Attrs::Type) ? d : &spec;
    Attrs& typeAttrs = A.is(Attrs::Type) ? A : S;
    uint32_t type = (A.is(Attrs::Type) || from != &A) ? typeOf(typeDie, typeAttrs, 0) : 0;
    VarRec v{str(key), type, (decl ? vExtern : ext ? vGlobal : vStatic) | (hasAddr ? vHasAddr : 0u), 0, addr, 0, rank};
    if (it == varIndex_.end()) {
      varIndex_.emplace(key, uint32_t(vars_.size()));
      vars_.push_back(v);
    } else {
      vars_[it->second] = v;
    }
  }

  void function(Dwarf_Die* d) {
    Attrs A, O;
    readAttrs(d, A);
    // A concrete out-of-line copy of an inline function, or a definition completing a
    // declaration, takes its name, type and parameters from the DIE it points at.
    Dwarf_Die origin;
    Dwarf_Die* src = d;
    Attrs* sa = &A;
    Attrs::Slot link = A.is(Attrs::AbstractOrigin) ? Attrs::AbstractOrigin : Attrs::Specification;
    if (A.is(link)) {
      if (!dwarf_formref_die(&A.a[link], &origin)) corrupt(d, "bad DW_AT_abstract_origin/specification");
      readAttrs(&origin, O);
      src = &origin;
      sa = &O;
    }
    const char* name = nameOf(d, A.is(Attrs::Name) ? A : *sa);
    if (!name) return;
    bool decl = flagAttr(d, A, Attrs::Declaration);
    bool ext = flagAttr(d, A, Attrs::External) || (sa != &A && flagAttr(src, O, Attrs::External));
    Dwarf_Addr addr = 0;
    bool hasAddr = !decl && dwarf_lowpc(d, &addr) == 0;
    if (!decl && !hasAddr) {
      Dwarf_Addr base, start, end;
      if (dwarf_ranges(d, 0, &base, &start, &end) > 0) { addr = start; hasAddr = true; }
    }
    int rank = decl ? 0 : hasAddr ? (ext ? 3 : 2) : 1;
    std::string_view key(name);
    auto it = funcIndex_.find(key);
    if (it != funcIndex_.end() && funcs_[it->second].rank >= rank) return;
    uint32_t type = proto(src, *sa, 0, true);
    FuncRec f{str(key), type, (decl ? vExtern : ext ? vGlobal : vStatic) | (hasAddr ? vHasAddr : 0u), addr, rank};
    if (it == funcIndex_.end()) {
      funcIndex_.emplace(key, uint32_t(funcs_.size()));
      funcs_.push_back(f);
    } else {
      funcs_[it->second] = f;
    }
  }

  void walkInlines(Dwarf_Die* parent, uint32_t depth) {
    if (depth > 64) return;
    Dwarf_Die c;
    int r = dwarf_child(parent, &c);
    if (r < 0) corrupt(parent, "unreadable function body");
    for (; r == 0; r = dwarf_siblingof(&c, &c)) {
      int tag = dwarf_tag(&c);
      if (tag == DW_TAG_lexical_block) {
        walkInlines(&c, depth);
      } else if (tag == DW_TAG_inlined_subroutine) {
        Dwarf_Attribute na;
        const char* name = dwarf_attr_integrate(&c, DW_AT_name, &na) ? dwarf_formstring(&na) : nullptr;
        uint32_t n = str(name);
        Dwarf_Addr base, start, end;
        ptrdiff_t off = 0;
        while ((off = dwarf_ranges(&c, off, &base, &start, &end)) > 0)
          if (end > start) inlines_list_.push_back({start, end, n, depth});
        walkInlines(&c, depth + 1);
      }
    }
    if (r < 0) corrupt(parent, "unreadable function body");
  }

  void walkUnit(Dwarf_Die* cudie) {
    Dwarf_Die c;
    int r = dwarf_child(cudie, &c);
    if (r < 0) corrupt(cudie, "unreadable compile unit");
    for (; r == 0; r = dwarf_siblingof(&c, &c)) {
      switch (dwarf_tag(&c)) {
        case DW_TAG_structure_type: case DW_TAG_union_type: case DW_TAG_class_type:
        case DW_TAG_typedef: case DW_TAG_base_type:
          // Anonymous ones are reached through whatever uses them.
          if (dwarf_hasattr(&c, DW_AT_name)) canon(&c, 0);
          break;
        case DW_TAG_enumeration_type:
          canon(&c, 0);  // anonymous enums too: they carry constants (TASK_COMM_LEN...)
          break;
        case DW_TAG_variable:
          variable(&c);
          break;
        case DW_TAG_subprogram:
          function(&c);
          if (inlines_ && dwarf_haschildren(&c)) walkInlines(&c, 1);
          break;
        default:
          break;
      }
      drainPending();
    }
    if (r < 0) corrupt(cudie, "unreadable compile unit");
  }

  struct Pending {
    uint32_t first = 0;
    std::vector<Dwarf_Die> types;
    std::vector<bool> hasType;
  };

  bool bigEndian_, inlines_;
  Dwarf_CU* cu_ = nullptr;
  DieMap local_, global_;  // DIE → id: this CU's DIEs, and DIEs of other CUs reached by DW_FORM_ref_addr
  std::vector<TypeRec> types_;
  std::vector<Item> items_;
  std::vector<char> strtab_;
  std::unordered_map<std::string_view, uint32_t> strIndex_;
  std::unordered_map<std::string, uint32_t> intern_;
  std::string key_;
  std::vector<std::vector<RawMember>> scratch_;
  std::vector<Pending> pending_;
  std::vector<VarRec> vars_;
  std::vector<FuncRec> funcs_;
  std::unordered_map<std::string_view, uint32_t> varIndex_, funcIndex_;
  std::vector<InlineRec> inlines_list_;
};

void Extractor::finalize(DwarfIndexStats& stats) {
  const uint32_t n = uint32_t(types_.size());
  // 1. A declaration stands for the first definition of its name, when there is one.
  std::unordered_map<uint64_t, uint32_t> defs;
  for (uint32_t id = 1; id < n; id++) {
    const TypeRec& t = types_[id];
    if ((t.kind == kStruct || t.kind == kUnion || t.kind == kEnum) && t.name)
      defs.try_emplace(uint64_t(t.kind) << 32 | t.name, id);
  }
  std::vector<uint32_t> redirect(n);
  for (uint32_t id = 0; id < n; id++) {
    redirect[id] = id;
    const TypeRec& t = types_[id];
    if (t.kind != kFwd) continue;
    Kind k = t.aux == 1 ? kUnion : t.aux == 2 ? kEnum : kStruct;
    auto it = defs.find(uint64_t(k) << 32 | t.name);
    if (it != defs.end()) { redirect[id] = it->second; stats.fwdResolved++; }
  }
  // 2. Key the types that are identified by what they point at again, over redirected ids.
  //    rep[id]: the id standing for id (itself for roots; a resolved declaration's definition).
  std::vector<uint32_t> rep(n, kNone);
  std::unordered_map<std::string, uint32_t> again;
  again.reserve(n);
  std::string key;
  auto put32 = [&key](uint32_t v) { key.append(reinterpret_cast<const char*>(&v), 4); };
  auto isRoot = [](const TypeRec& t) {
    return t.kind == kVoid || t.kind == kInt || t.kind == kFloat || t.kind == kEnum || t.kind == kFwd ||
           ((t.kind == kStruct || t.kind == kUnion) && t.name);
  };
  auto forChildren = [this](const TypeRec& t, auto&& visit) {
    if (t.kind == kPtr || t.kind == kQual || t.kind == kTypedef || t.kind == kArray || t.kind == kFunc) visit(t.ref);
    if (t.kind == kFunc || t.kind == kStruct || t.kind == kUnion)
      for (uint32_t i = 0; i < t.count; i++) visit(items_[t.first + i].type);
  };
  // Iterative depth-first post-order: a type is keyed once everything it refers to has a rep.
  std::vector<uint32_t> stack;
  for (uint32_t start = 0; start < n; start++) {
    if (rep[start] != kNone) continue;
    stack.push_back(start);
    while (!stack.empty()) {
      uint32_t id = stack.back();
      if (rep[id] != kNone && rep[id] != kInProgress) { stack.pop_back(); continue; }
      const TypeRec& t = types_[id];
      if (redirect[id] != id) { rep[id] = redirect[id]; stack.pop_back(); continue; }  // definitions are roots
      if (isRoot(t)) { rep[id] = id; stack.pop_back(); continue; }
      if (rep[id] == kNone) {
        rep[id] = kInProgress;
        forChildren(t, [&](uint32_t c) {
          if (c >= n) throw DwarfError("CORRUPT", "internal: type id out of range");
          if (rep[c] == kInProgress) throw DwarfError("CORRUPT", "corrupt DWARF: a type cycle without a named struct");
          if (rep[c] == kNone) stack.push_back(c);
        });
        continue;  // back here once the children are done
      }
      key.clear();
      key.push_back(char(t.kind)); key.push_back(char(t.flags)); put32(t.aux); put32(t.size); put32(t.count);
      forChildren(t, [&](uint32_t c) { put32(rep[c]); });
      if (t.kind == kStruct || t.kind == kUnion || t.kind == kFunc)
        for (uint32_t i = 0; i < t.count; i++) {
          const Item& m = items_[t.first + i];
          put32(m.name); put32(m.a); put32(m.b);
        }
      put32(t.name);
      auto [it, inserted] = again.try_emplace(key, id);
      rep[id] = it->second;
      if (!inserted) stats.merged++;
      stack.pop_back();
    }
  }
  // 3. Dense ids over the representatives, then rewrite every reference through them.
  std::vector<uint32_t> dense(n, kNone);
  std::vector<TypeRec> outTypes;
  std::vector<Item> outItems;
  for (uint32_t id = 0; id < n; id++) {
    if (rep[id] != id) continue;
    dense[id] = uint32_t(outTypes.size());
    outTypes.push_back(types_[id]);
  }
  auto map = [&](uint32_t id) { return dense[rep[id]]; };
  for (uint32_t id = 0; id < n; id++) {
    if (rep[id] != id) continue;
    TypeRec& t = outTypes[dense[id]];
    if (t.kind == kPtr || t.kind == kQual || t.kind == kTypedef || t.kind == kArray || t.kind == kFunc) t.ref = map(t.ref);
    if (t.kind == kFunc || t.kind == kStruct || t.kind == kUnion || t.kind == kEnum) {
      uint32_t first = uint32_t(outItems.size());
      for (uint32_t i = 0; i < t.count; i++) {
        Item m = items_[t.first + i];
        if (t.kind != kEnum) m.type = map(m.type);
        outItems.push_back(m);
      }
      t.first = first;
    }
  }
  for (auto& v : vars_) v.type = map(v.type);
  for (auto& f : funcs_) f.type = map(f.type);
  types_.swap(outTypes);
  items_.swap(outItems);
  std::sort(inlines_list_.begin(), inlines_list_.end(),
            [](const InlineRec& a, const InlineRec& b) { return a.lo != b.lo ? a.lo < b.lo : a.depth < b.depth; });
}

void put32(std::vector<uint8_t>& o, uint32_t v) {
  for (int i = 0; i < 4; i++) o.push_back(uint8_t(v >> (8 * i)));
}
void put64(std::vector<uint8_t>& o, uint64_t v) {
  put32(o, uint32_t(v));
  put32(o, uint32_t(v >> 32));
}

std::vector<uint8_t> Extractor::serialize(uint32_t pointerSize, const std::string& buildId,
                                          const std::vector<ElfSection>& sections, DwarfIndexStats& stats) {
  uint32_t buildIdStr = buildId.empty() ? kNone : str(std::string_view(buildId));
  // Section names for variables with an address (per-cpu variables: .data..percpu offsets).
  for (auto& v : vars_) {
    if (!(v.flags & vHasAddr)) continue;
    for (const ElfSection& s : sections) {
      if (v.addr >= s.addr && v.addr - s.addr < s.size) {
        v.section = str(s.name);
        v.secOffset = v.addr - s.addr;
        v.flags |= vHasSection;
        break;
      }
    }
  }
  std::vector<uint8_t> o;
  o.reserve(64 + types_.size() * 24 + items_.size() * 16 + vars_.size() * 32 + funcs_.size() * 24 +
            inlines_list_.size() * 24 + strtab_.size());
  const uint32_t header[] = {kFormatVersion, pointerSize, (inlines_ ? 1u : 0u) | (bigEndian_ ? 2u : 0u),
                             uint32_t(types_.size()), uint32_t(items_.size()), uint32_t(vars_.size()),
                             uint32_t(funcs_.size()), uint32_t(inlines_list_.size()), uint32_t(strtab_.size()), buildIdStr};
  for (char c : kMagic) o.push_back(uint8_t(c));
  for (uint32_t v : header) put32(o, v);
  while (o.size() < 64) o.push_back(0);
  for (const TypeRec& t : types_) {
    o.push_back(t.kind); o.push_back(t.flags); o.push_back(uint8_t(t.aux)); o.push_back(uint8_t(t.aux >> 8));
    put32(o, t.name); put32(o, t.size); put32(o, t.ref); put32(o, t.first); put32(o, t.count);
  }
  for (const Item& m : items_) { put32(o, m.name); put32(o, m.type); put32(o, m.a); put32(o, m.b); }
  for (const VarRec& v : vars_) { put32(o, v.name); put32(o, v.type); put32(o, v.flags); put32(o, v.section); put64(o, v.addr); put64(o, v.secOffset); }
  for (const FuncRec& f : funcs_) { put32(o, f.name); put32(o, f.type); put32(o, f.flags); put32(o, 0); put64(o, f.addr); }
  for (const InlineRec& r : inlines_list_) { put64(o, r.lo); put64(o, r.hi); put32(o, r.name); put32(o, r.depth); }
  o.insert(o.end(), strtab_.begin(), strtab_.end());
  stats.types = uint32_t(types_.size());
  stats.members = uint32_t(items_.size());
  stats.variables = uint32_t(vars_.size());
  stats.functions = uint32_t(funcs_.size());
  stats.inlines = uint32_t(inlines_list_.size());
  return o;
}

// ---- ELF ---------------------------------------------------------------------------------------

struct Fd {
  int fd = -1;
  ~Fd() { if (fd >= 0) close(fd); }
};
struct ElfHandle {
  Elf* e = nullptr;
  ~ElfHandle() { if (e) elf_end(e); }
};
struct DwarfHandle {
  Dwarf* d = nullptr;
  ~DwarfHandle() { if (d) dwarf_end(d); }
};

void openElf(const std::string& path, Fd& fd, ElfHandle& eh) {
  fd.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0) {
    int e = errno;
    throw DwarfError("IO", path + ": " + std::strerror(e));
  }
  elf_version(EV_CURRENT);
  eh.e = elf_begin(fd.fd, ELF_C_READ_MMAP, nullptr);
  if (!eh.e || elf_kind(eh.e) != ELF_K_ELF) throw DwarfError("NOT_ELF", path + ": not an ELF file");
}

// Identity and the alloc sections (for variables' section names), every header checked by libelf.
ElfIdentity identify(const std::string& path, Elf* e, std::vector<ElfSection>* sections, bool* bigEndian,
                     uint32_t* pointerSize) {
  ElfIdentity id;
  GElf_Ehdr eh;
  if (!gelf_getehdr(e, &eh)) throw DwarfError("NOT_ELF", path + ": unreadable ELF header (" + elf_errmsg(-1) + ")");
  id.type = eh.e_type == ET_EXEC ? "exec" : eh.e_type == ET_REL ? "rel" : eh.e_type == ET_DYN ? "dyn" : eh.e_type == ET_CORE ? "core" : "other";
  if (bigEndian) *bigEndian = eh.e_ident[EI_DATA] == ELFDATA2MSB;
  if (pointerSize) *pointerSize = eh.e_ident[EI_CLASS] == ELFCLASS64 ? 8 : 4;
  const void* bid = nullptr;
  ssize_t n = dwelf_elf_gnu_build_id(e, &bid);
  if (n < 0) throw DwarfError("CORRUPT", path + ": unreadable ELF notes (" + elf_errmsg(-1) + ")");
  static const char hexd[] = "0123456789abcdef";
  for (ssize_t i = 0; i < n; i++) {
    uint8_t b = static_cast<const uint8_t*>(bid)[i];
    id.buildId.push_back(hexd[b >> 4]);
    id.buildId.push_back(hexd[b & 15]);
  }
  size_t shstrndx;
  if (elf_getshdrstrndx(e, &shstrndx) != 0) throw DwarfError("CORRUPT", path + ": unreadable section headers (" + elf_errmsg(-1) + ")");
  for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) throw DwarfError("CORRUPT", path + ": unreadable section header (" + elf_errmsg(-1) + ")");
    const char* name = elf_strptr(e, shstrndx, sh.sh_name);
    if (!name) throw DwarfError("CORRUPT", path + ": section name out of range");
    std::string_view nm(name);
    if ((nm == ".debug_info" || nm == ".zdebug_info") && sh.sh_type != SHT_NOBITS && sh.sh_size > 0) id.hasDebugInfo = true;
    if (sections && (sh.sh_flags & SHF_ALLOC) && sh.sh_size > 0) sections->push_back({nm, sh.sh_addr, sh.sh_size, uint32_t(elf_ndxscn(scn))});
    if (nm == ".rodata" && sh.sh_type == SHT_PROGBITS && id.release.empty()) {
      Elf_Data* data = elf_rawdata(scn, nullptr);
      if (!data || !data->d_buf) throw DwarfError("CORRUPT", path + ": .rodata runs past the end of the file");
      // The kernel banner: "Linux version 6.1.0-54-cloud-amd64 (...)".
      const char* p = static_cast<const char*>(data->d_buf);
      const char* end = p + data->d_size;
      static const char needle[] = "Linux version ";
      while (p < end) {
        const char* hit = static_cast<const char*>(memmem(p, size_t(end - p), needle, sizeof needle - 1));
        if (!hit) break;
        const char* r = hit + sizeof needle - 1;
        const char* q = r;
        while (q < end && *q > ' ' && *q < 0x7f && q - r < 128) q++;
        if (q > r && *r >= '0' && *r <= '9') { id.release.assign(r, q); break; }
        p = hit + 1;
      }
    }
  }
  return id;
}

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

ElfIdentity readElfIdentity(const std::string& path) {
  Fd fd;
  ElfHandle eh;
  openElf(path, fd, eh);
  return identify(path, eh.e, nullptr, nullptr, nullptr);
}

namespace {

// libdwfl owns what it opens: the relocated Elf and its Dwarf live until dwfl_end.
struct DwflHandle {
  Dwfl* d = nullptr;
  ~DwflHandle() { if (d) dwfl_end(d); }
};

// The file's own debug sections are the ones wanted: never look for a separate debuginfo file.
int noSeparateDebuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word, char**) {
  return -1;
}

const Dwfl_Callbacks kOfflineCallbacks = {
    nullptr,                       // find_elf: the file is reported by path
    noSeparateDebuginfo,           // find_debuginfo
    dwfl_offline_section_address,  // section_address: libdwfl's own layout of an ET_REL file
    nullptr,                       // debuginfo_path
};

}  // namespace

std::vector<uint8_t> buildDwarfIndex(const std::string& path, const DwarfIndexOptions& opts, ElfIdentity& id,
                                     DwarfIndexStats& stats, std::vector<SectionAddress>* sectionsOut) {
  auto t0 = std::chrono::steady_clock::now();
  Fd fd;
  ElfHandle eh;
  openElf(path, fd, eh);
  std::vector<ElfSection> sections;
  bool bigEndian = false;
  uint32_t pointerSize = 8;
  id = identify(path, eh.e, &sections, &bigEndian, &pointerSize);
  if (!opts.expectBuildId.empty() && id.buildId != opts.expectBuildId)
    throw DwarfError("BUILD_ID_MISMATCH", path + ": build-id " + (id.buildId.empty() ? "(none)" : id.buildId) +
                                              " does not match the expected " + opts.expectBuildId);
  if (!id.hasDebugInfo) throw DwarfError("NO_DWARF", path + ": no DWARF debug info (no .debug_info section; a stripped vmlinux?)");
  DwarfHandle dh;
  DwflHandle dwfl;
  Dwarf* dwarf = nullptr;
  if (id.type == "rel") {
    // A module .ko is relocatable: its DWARF holds section-relative addresses and string offsets
    // that only its .rela.debug_* records complete. libdwfl lays its sections out and applies
    // them; the index's addresses are then relative to that layout (sections, below).
    dwfl.d = dwfl_begin(&kOfflineCallbacks);
    if (!dwfl.d) throw DwarfError("IO", path + ": libdwfl: " + dwfl_errmsg(-1));
    Dwfl_Module* mod = dwfl_report_offline(dwfl.d, "module", path.c_str(), -1);
    if (!mod || dwfl_report_end(dwfl.d, nullptr, nullptr) != 0)
      throw DwarfError("CORRUPT", path + ": libdwfl cannot load it (" + dwfl_errmsg(-1) + ")");
    Dwarf_Addr bias = 0;
    dwarf = dwfl_module_getdwarf(mod, &bias);
    if (!dwarf) throw DwarfError("CORRUPT", path + ": libdwfl cannot relocate its DWARF (" + dwfl_errmsg(-1) + ")");
    if (bias != 0) throw DwarfError("CORRUPT", path + ": unexpected address bias 0x" + std::to_string(bias) + " on a relocatable file");
    GElf_Addr elfBias = 0;
    Elf* relocated = dwfl_module_getelf(mod, &elfBias);
    if (!relocated) throw DwarfError("CORRUPT", path + ": libdwfl lost its ELF (" + dwfl_errmsg(-1) + ")");
    sections.clear();
    identify(path, relocated, &sections, nullptr, nullptr);
  } else {
    dh.d = dwarf_begin_elf(eh.e, DWARF_C_READ, nullptr);
    if (!dh.d) throw DwarfError("CORRUPT", path + ": libdw cannot read its DWARF (" + dwarf_errmsg(-1) + ")");
    dwarf = dh.d;
  }
  Extractor x(bigEndian, opts.inlines);
  try {
    x.run(dwarf, stats);
    x.finalize(stats);
  } catch (const DwarfError& e) {
    throw DwarfError(e.code, path + ": " + e.what());
  }
  std::vector<uint8_t> out = x.serialize(pointerSize, id.buildId, sections, stats);
  if (sectionsOut) {
    for (const ElfSection& s : sections) sectionsOut->push_back({s.index, std::string(s.name), s.addr, s.size});
  }
  stats.ms = msSince(t0);
  return out;
}

// ---- N-API -------------------------------------------------------------------------------------

namespace {

Napi::Error jsError(Napi::Env env, const char* code, const std::string& msg) {
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

template <typename F>
auto guardedDwarf(Napi::Env env, F f) -> decltype(f()) {
  try {
    return f();
  } catch (const DwarfError& e) {
    throw jsError(env, e.code, e.what());
  } catch (const std::bad_alloc&) {
    throw jsError(env, "IO", "out of memory reading DWARF");
  }
}

Napi::Value strOrNull(Napi::Env env, const std::string& s) { return s.empty() ? env.Null() : Napi::String::New(env, s); }

Napi::Object identityJs(Napi::Env env, const ElfIdentity& id) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("buildId", strOrNull(env, id.buildId));
  o.Set("release", strOrNull(env, id.release));
  o.Set("hasDebugInfo", id.hasDebugInfo);
  o.Set("type", id.type);
  return o;
}

std::string pathArg(const Napi::CallbackInfo& info, const char* usage) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), usage);
  return info[0].As<Napi::String>();
}

Napi::Value ElfIdentityJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = pathArg(info, "elfIdentity(path: string)");
  ElfIdentity id = guardedDwarf(env, [&] { return readElfIdentity(path); });
  return identityJs(env, id);
}

Napi::Value DwarfIndexJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = pathArg(info, "dwarfIndex(path: string, options?: { inlines?: boolean; expectBuildId?: string })");
  DwarfIndexOptions opts;
  if (info.Length() >= 2 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Value inl = o.Get("inlines");
    if (!inl.IsUndefined()) opts.inlines = inl.ToBoolean();
    Napi::Value want = o.Get("expectBuildId");
    if (want.IsString()) opts.expectBuildId = want.As<Napi::String>();
    else if (!want.IsUndefined() && !want.IsNull()) throw Napi::TypeError::New(env, "options.expectBuildId must be a string");
  }
  ElfIdentity id;
  DwarfIndexStats st;
  std::vector<SectionAddress> sections;
  std::vector<uint8_t> bytes = guardedDwarf(env, [&] { return buildDwarfIndex(path, opts, id, st, &sections); });
  Napi::Object o = identityJs(env, id);
  o.Set("index", Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size()));
  Napi::Array secs = Napi::Array::New(env, sections.size());
  for (size_t i = 0; i < sections.size(); i++) {
    Napi::Object so = Napi::Object::New(env);
    so.Set("index", sections[i].index);
    so.Set("name", sections[i].name);
    so.Set("addr", Napi::BigInt::New(env, sections[i].addr));
    so.Set("size", Napi::BigInt::New(env, sections[i].size));
    secs[i] = so;
  }
  o.Set("sections", secs);
  Napi::Object s = Napi::Object::New(env);
  s.Set("cus", st.cus);
  s.Set("types", st.types);
  s.Set("items", st.members);
  s.Set("variables", st.variables);
  s.Set("functions", st.functions);
  s.Set("inlines", st.inlines);
  s.Set("fwdResolved", st.fwdResolved);
  s.Set("merged", st.merged);
  s.Set("ms", st.ms);
  o.Set("stats", s);
  return o;
}

}  // namespace

void registerDwarf(Napi::Env env, Napi::Object exports) {
  exports.Set("elfIdentity", Napi::Function::New(env, ElfIdentityJs, "elfIdentity"));
  exports.Set("dwarfIndex", Napi::Function::New(env, DwarfIndexJs, "dwarfIndex"));
}

}  // namespace vaat
