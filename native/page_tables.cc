#include "page_tables.h"

#include <cerrno>
#include <cstdlib>

namespace vaat {
namespace {

bool parseU64(const std::string& s, int base, uint64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s.c_str(), &end, base);
  return errno == 0 && end && *end == '\0';
}
bool parseS64(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}

// x86_64: 4- or 5-level tables of 512 entries, 4 KiB pages, 2 MiB / 1 GiB huge pages.
class X86_64Tables : public PageTables {
 public:
  X86_64Tables(uint64_t root, int levels, uint64_t entryMask) : root_(root), levels_(levels), entryMask_(entryMask) {}

  bool walk(uint64_t v, uint64_t& phys, const ReadEntry& read) const override {
    const int topShift = levels_ == 5 ? 48 : 39;
    // Canonical form: the bits above the top level's index must all equal its highest bit.
    int64_t sv = int64_t(v);
    if ((sv << (63 - (topShift + 8))) >> (63 - (topShift + 8)) != sv) return false;
    uint64_t table = root_;
    for (int shift = topShift; shift >= 12; shift -= 9) {
      uint64_t entry;
      if (!read(table + ((v >> shift) & 511) * 8, entry)) return false;
      if (!(entry & kPresent)) return false;
      if ((shift == 30 || shift == 21) && (entry & kHuge)) {  // 1 GiB / 2 MiB page
        uint64_t span = 1ULL << shift;
        phys = (entry & entryMask_ & ~(span - 1)) | (v & (span - 1));
        return true;
      }
      table = entry & entryMask_;
    }
    phys = table | (v & 0xfff);
    return true;
  }

  static constexpr uint64_t kStartKernelMap = 0xffffffff80000000ULL;  // __START_KERNEL_map
  static constexpr uint64_t kPresent = 0x1, kHuge = 0x80;              // _PAGE_PRESENT, _PAGE_PSE
  static constexpr uint64_t kAddrMask = 0x000ffffffffff000ULL;        // physical address bits of an entry

 private:
  uint64_t root_;
  int levels_;
  uint64_t entryMask_;
};

std::unique_ptr<PageTables> x86_64Tables(const DumpInfo& I, std::string& why) {
  // The page-table root is init_top_pgt, a kernel-image address: phys = vaddr - __START_KERNEL_map
  // + phys_base. phys_base is signed decimal in VMCOREINFO (it is negative with KASLR).
  uint64_t pgt = 0;
  int64_t physBase = 0;
  if (!parseU64(vmcoreinfoValue(I.vmcoreinfo, "SYMBOL(init_top_pgt)"), 16, pgt)) {
    why = "VMCOREINFO has no SYMBOL(init_top_pgt): cannot find the kernel page tables";
    return nullptr;
  }
  if (!parseS64(vmcoreinfoValue(I.vmcoreinfo, "NUMBER(phys_base)"), physBase)) {
    // QEMU's header phys_base is not trustworthy (it parses the decimal VMCOREINFO value as hex).
    if (!I.hasHeaderPhysBase || I.format.find("qemu") != std::string::npos) {
      why = "VMCOREINFO has no NUMBER(phys_base)";
      return nullptr;
    }
    physBase = I.headerPhysBase;
  }
  int levels = vmcoreinfoValue(I.vmcoreinfo, "NUMBER(pgtable_l5_enabled)") == "1" ? 5 : 4;
  uint64_t sme = 0;  // AMD SME encryption bit, set in page-table entries when memory encryption is on
  parseU64(vmcoreinfoValue(I.vmcoreinfo, "NUMBER(sme_mask)"), 10, sme);
  return std::make_unique<X86_64Tables>(pgt - X86_64Tables::kStartKernelMap + uint64_t(physBase), levels, X86_64Tables::kAddrMask & ~sme);
}

// arm64 (VMSAv8-64 stage 1, the TTBR1 half): 4, 16 or 64 KiB granules, 2 to 5 levels of tables
// of (granule / 8) entries, block mappings at the levels above the last.
class Arm64Tables : public PageTables {
 public:
  Arm64Tables(uint64_t root, int pageShift, int vaBits, int paHighBits) : root_(root), pageShift_(pageShift), vaBits_(vaBits) {
    const int perLevel = pageShift - 3;
    // ARM64_HW_PGTABLE_LEVELS(va_bits) and PGDIR_SHIFT (arch/arm64/include/asm/pgtable-hwdef.h)
    const int levels = (vaBits - 4) / perLevel;
    topShift_ = perLevel * levels + 3;
    addrMask_ = ((1ULL << 48) - 1) & ~((1ULL << pageShift) - 1);
    paHigh_ = paHighBits;
    if (paHigh_ == kLpa2) addrMask_ = ((1ULL << 50) - 1) & ~((1ULL << pageShift) - 1);
  }

  // Where a 52-bit physical address keeps its top bits in an entry.
  static constexpr int kPa48 = 0, kLpa64K = 1, kLpa2 = 2;

  bool walk(uint64_t v, uint64_t& phys, const ReadEntry& read) const override {
    // A kernel (TTBR1) address has every bit above the VA size set.
    if (vaBits_ < 64 && (v >> vaBits_) != (~0ULL >> vaBits_)) return false;
    const int perLevel = pageShift_ - 3;
    uint64_t table = root_;
    for (int shift = topShift_; shift >= pageShift_; shift -= perLevel) {
      uint64_t bits = shift == topShift_ ? uint64_t(vaBits_ - shift) : uint64_t(perLevel);
      uint64_t index = (v >> shift) & ((1ULL << bits) - 1);
      uint64_t entry;
      if (!read(table + index * 8, entry)) return false;
      if (!(entry & 1)) return false;  // not valid
      const bool last = shift == pageShift_;
      const bool tableOrPage = entry & 2;
      if (last && !tableOrPage) return false;  // reserved encoding at the last level
      uint64_t out = outputAddress(entry);
      if (last || !tableOrPage) {  // a page, or a block covering 1 << shift bytes
        uint64_t span = 1ULL << shift;
        phys = (out & ~(span - 1)) | (v & (span - 1));
        return true;
      }
      table = out;
    }
    return false;
  }

 private:
  uint64_t outputAddress(uint64_t entry) const {
    uint64_t a = entry & addrMask_;
    // FEAT_LPA with 64 KiB pages: PA[51:48] in bits [15:12]; FEAT_LPA2: PA[51:50] in bits [9:8].
    if (paHigh_ == kLpa64K) a |= ((entry >> 12) & 0xf) << 48;
    if (paHigh_ == kLpa2) a |= ((entry >> 8) & 0x3) << 50;
    return a;
  }

  uint64_t root_;
  int pageShift_, vaBits_, topShift_ = 0, paHigh_ = kPa48;
  uint64_t addrMask_ = 0;
};

std::unique_ptr<PageTables> arm64Tables(const DumpInfo& I, std::string& why) {
  auto number = [&](const char* key, uint64_t& out) { return parseU64(vmcoreinfoValue(I.vmcoreinfo, key), 0, out); };
  uint64_t pgd = 0, voffset = 0, vaBits = 0, t1sz = 0, physBits = 48;
  if (!parseU64(vmcoreinfoValue(I.vmcoreinfo, "SYMBOL(swapper_pg_dir)"), 16, pgd)) {
    why = "VMCOREINFO has no SYMBOL(swapper_pg_dir): cannot find the kernel page tables";
    return nullptr;
  }
  // swapper_pg_dir is in the kernel image, which is mapped at kimage_voffset above its physical
  // address (arch/arm64/kernel/crash_core.c exports it since v4.12).
  if (!number("NUMBER(kimage_voffset)", voffset)) {
    why = "VMCOREINFO has no NUMBER(kimage_voffset): cannot place the kernel image";
    return nullptr;
  }
  if (!number("NUMBER(VA_BITS)", vaBits) || vaBits < 36 || vaBits > 52) {
    why = "VMCOREINFO has no usable NUMBER(VA_BITS)";
    return nullptr;
  }
  int pageShift = 0;
  for (int s : {12, 14, 16})
    if (I.pageSize == (1u << s)) pageShift = s;
  if (!pageShift) {
    why = "arm64 page size " + std::to_string(I.pageSize) + " is not a translation granule (4, 16 or 64 KiB)";
    return nullptr;
  }
  number("NUMBER(MAX_PHYSMEM_BITS)", physBits);
  // TCR_EL1.T1SZ (exported since v5.9) is the VA size the hardware actually used. A 52-bit kernel
  // on hardware without 52-bit VAs runs with 48: with 64 KiB pages the tables keep their 52-bit
  // shape (TTBR1 points into the top of swapper_pg_dir), with 4/16 KiB pages (LPA2, v6.9+) the
  // kernel folds the top level at run time, so the walk follows the VA size in use.
  int paHigh = Arm64Tables::kPa48;
  int walkBits = int(vaBits);
  bool haveT1sz = number("NUMBER(TCR_EL1_T1SZ)", t1sz) && t1sz >= 12 && t1sz <= 28;
  if (physBits == 52 && pageShift == 16) paHigh = Arm64Tables::kLpa64K;
  if (vaBits == 52 && pageShift < 16 && haveT1sz) {
    walkBits = 64 - int(t1sz);
    if (walkBits == 52) paHigh = Arm64Tables::kLpa2;
  }
  return std::make_unique<Arm64Tables>(pgd - voffset, pageShift, walkBits, paHigh);
}

}  // namespace

std::unique_ptr<PageTables> makePageTables(const DumpInfo& info, std::string& why) {
  if (info.arch == "x86_64") return x86_64Tables(info, why);
  if (info.arch == "aarch64") return arm64Tables(info, why);
  why = "virtual addresses are not supported for this architecture (dump arch '" + (info.arch.empty() ? std::string("unknown") : info.arch) + "')";
  return nullptr;
}

}  // namespace vaat
