/* version: the product version, used in --version, created_by and banners. */
#ifndef O2P_CORE_VERSION_H
#define O2P_CORE_VERSION_H

#define O2P_VERSION    "0.1.0"
#define O2P_CREATED_BY "otlp2parquet version " O2P_VERSION

#endif
