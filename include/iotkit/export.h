/**
 * @file export.h
 * @brief Symbol visibility for libiotkit.
 *
 * The library is built with hidden visibility; only declarations marked
 * IOTKIT_API are exported from the shared object.
 */
#ifndef IOTKIT_EXPORT_H
#define IOTKIT_EXPORT_H

#if defined(IOTKIT_STATIC)
#define IOTKIT_API
#elif defined(IOTKIT_BUILDING) && defined(__GNUC__)
#define IOTKIT_API __attribute__((visibility("default")))
#else
#define IOTKIT_API
#endif

#endif /* IOTKIT_EXPORT_H */
