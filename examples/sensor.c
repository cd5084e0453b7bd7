/* A minimal sensor: connect, publish five readings, wait for their delivery.
   Usage: sensor [URI] [DEVICE_ID]   (defaults: mqtt://127.0.0.1:1883 sensor-1) */
#include <stdio.h>

#include <iotkit/iotkit.h>

static void on_delivery(iotkit_device_t *dev, void *user, uint32_t msg_id, iotkit_err_t status) {
  (void)dev;
  (*(int *)user)++;
  printf("message %u: %s\n", (unsigned)msg_id, iotkit_strerror(status));
}

int main(int argc, char **argv) {
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.uri = argc > 1 ? argv[1] : "mqtt://127.0.0.1:1883";
  cfg.device_id = argc > 2 ? argv[2] : "sensor-1";
  cfg.state_dir = "sensor-state"; /* the device keeps its state here (POSIX HAL) */

  iotkit_device_t *dev = NULL;
  iotkit_err_t err = iotkit_device_new(&cfg, &dev);
  if (err != IOTKIT_OK) return fprintf(stderr, "config: %s\n", iotkit_strerror(err)), 1;
  int delivered = 0;
  iotkit_device_on_delivery(dev, on_delivery, &delivered);
  if ((err = iotkit_device_connect(dev)) != IOTKIT_OK) {
    char why[IOTKIT_ERROR_TEXT_SIZE];
    fprintf(stderr, "%s (%s)\n", iotkit_device_last_error(dev, why, sizeof(why)), iotkit_err_name(err));
    iotkit_device_free(dev);
    return 2;
  }
  for (int i = 0; i < 5; i++) {
    char json[64];
    int n = snprintf(json, sizeof(json), "{\"seq\":%d,\"temperature\":%.1f}", i + 1, 21.0 + i * 0.1);
    if (iotkit_device_send_telemetry(dev, json, (size_t)n, NULL) != IOTKIT_OK) break;
    iotkit_device_poll(dev, 1000); /* network work and callbacks run here */
  }
  for (int waited = 0; delivered < 5 && waited < 50; waited++) iotkit_device_poll(dev, 100);
  iotkit_device_disconnect(dev);
  iotkit_device_free(dev);
  return delivered == 5 ? 0 : 3;
}
