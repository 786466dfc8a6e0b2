{
  # System libraries come from pkg-config; VAAT_PKG_CONFIG names another pkg-config binary
  # (cross builds, a private prefix). PKG_CONFIG_PATH works as usual.
  "variables": {
    "pkg_config%": "<!(node -p \"process.env.VAAT_PKG_CONFIG || 'pkg-config'\")",
    "vaat_pkgs": "libkdumpfile lzo2 snappy libzstd zlib libdw libelf"
  },
  "targets": [
    {
      "target_name": "vaat_native",
      "sources": [
        "native/addon.cc",
        "native/reader.cc",
        "native/byte_source.cc",
        "native/dump_format.cc",
        "native/kdump_compressed.cc",
        "native/elf_dump.cc",
        "native/codecs.cc",
        "native/vaat_backend.cc",
        "native/page_tables.cc",
        "native/kdumpfile_backend.cc",
        "native/errors.cc",
        "native/dwarf.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++17"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wextra", "<!@(<(pkg_config) --cflags <(vaat_pkgs))"],
      "libraries": ["<!@(<(pkg_config) --libs <(vaat_pkgs))"]
    }
  ]
}
