/* version.h - pgpart's release, shown by --version and written into archive manifests */
#ifndef PGPART_UTIL_VERSION_H
#define PGPART_UTIL_VERSION_H

#define PGPART_VERSION "0.1.0"

#endif
