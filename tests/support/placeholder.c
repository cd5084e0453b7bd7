/* Keeps the support library non-empty before helpers exist. */
typedef int iotkit_testsupport_placeholder_t;
