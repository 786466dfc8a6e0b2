{
  # Libraries come from pkg-config through native/build-flags.cjs, which also says how they are
  # linked (VAAT_LINK=shared, the default, or static) and names another pkg-config for cross builds.
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
        "native/vaat_backend.cc", "native/page_cache.cc", "native/huge_map.cc", "native/mapped_file.cc",
        "native/page_tables.cc",
        "native/kdumpfile_backend.cc",
        "native/kdumpfile_loader.cc",
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
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wextra", "<!@(node native/build-flags.cjs cflags)"],
      "libraries": ["<!@(node native/build-flags.cjs libs)"]
    }
  ]
}
