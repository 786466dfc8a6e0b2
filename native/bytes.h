// Unaligned integer loads from file bytes, in a stated byte order.
#pragma once
#include <cstdint>
#include <cstring>

namespace vaat {

inline uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
inline uint64_t be64(const uint8_t* p) { return uint64_t(be32(p)) << 32 | be32(p + 4); }

// Dump headers are little-endian on every architecture we read (x86_64), as is this host; memcpy
// keeps the loads alignment-safe.
inline uint16_t le16(const uint8_t* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t le32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t le64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
inline int32_t les32(const uint8_t* p) { return static_cast<int32_t>(le32(p)); }
inline int64_t les64(const uint8_t* p) { return static_cast<int64_t>(le64(p)); }

}  // namespace vaat
