// requires: mqtt coap
/* The device-model suite of test_device_model_mqtt.c run again, unchanged, through
   iotkit-hub: the device speaks plain CoAP (coap://) to the hub, the checks are made on the MQTT
   side as before. Tests about the MQTT session itself are skipped. */
#define IOTKIT_TEST_VIA_HUB "coap"
#define HUB_BIN IOTKIT_BINARY_DIR "/tools/iotkit-hub/iotkit-hub"
#include "test_device_model_mqtt.c"
