#!/bin/bash
# Writes vitedge.pc, the pkg-config file of the C library, to stdout.
#   tools/write_pc.sh PREFIX        an installed tree (make install)
#   tools/write_pc.sh --relocatable a folder that moves (dist/, dist/aarch64/): the prefix
#                                   is found from where the .pc file itself is
# Libs carries an rpath to the library's folder, so a program built with
# `$(pkg-config --cflags --libs vitedge)` runs from anywhere, whatever the prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/VitEdge/API/Version.swift)
prefix=$1
[ "$prefix" = --relocatable ] && prefix='${pcfiledir}/../..'
cat <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: vitedge
Description: vit-edge's C API: Vision Transformer inference (vit_edge.h)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lvitedge -Wl,-rpath,\${libdir}
Libs.private: -lstdc++ -lm -ldl -lpthread -llz4 -lturbojpeg -lspng
PC
