/* The device table: what the hub knows of each device (its key, the
   commands waiting for it; its retained documents are kept by retained.c). */
#include <stdlib.h>
#include <string.h>

#include "hub.h"

bool hub_id_valid(const char *id, size_t len) {
  char buf[IOTKIT_MAX_DEVICE_ID + 1];
  if (!id || len == 0 || len > IOTKIT_MAX_DEVICE_ID || memchr(id, '\0', len)) return false;
  memcpy(buf, id, len);
  buf[len] = '\0';
  return iotkit_protocol_device_id_valid(buf);
}

hub_device_t *hub_device_find(hub_t *hub, const char *id, size_t len) {
  for (hub_device_t *d = hub->devices; d; d = d->next) {
    if (strlen(d->id) == len && memcmp(d->id, id, len) == 0) return d;
  }
  return NULL;
}

hub_device_t *hub_device_get(hub_t *hub, const char *id, size_t len) {
  if (!hub_id_valid(id, len)) return NULL;
  hub_device_t *d = hub_device_find(hub, id, len);
  if (d) return d;
  d = calloc(1, sizeof *d);
  if (!d || !(d->id = malloc(len + 1))) {
    free(d);
    return NULL;
  }
  memcpy(d->id, id, len);
  d->id[len] = '\0';
  d->next = hub->devices;
  hub->devices = d;
  return d;
}

static void free_commands(hub_device_t *d) {
  while (d->cmd_head) {
    hub_cmd_t *c = d->cmd_head;
    d->cmd_head = c->next;
    free(c);
  }
  d->cmd_tail = NULL;
  d->cmd_count = 0;
}

void hub_devices_free(hub_t *hub) {
  while (hub->devices) {
    hub_device_t *d = hub->devices;
    hub->devices = d->next;
    volatile uint8_t *k = d->key;
    for (size_t i = 0; i < sizeof d->key; i++) k[i] = 0;
    free_commands(d);
    hub_device_clear_retained(d);
    free(d->id);
    free(d);
  }
}

void hub_device_push_command(hub_t *hub, hub_device_t *dev, const void *req, size_t len) {
  hub_cmd_t *c = malloc(sizeof *c + len + 1);
  if (!c) {
    hub_log(HUB_LOG_ERROR, "device %s: out of memory for a command: dropped", dev->id);
    return;
  }
  c->next = NULL;
  c->len = len;
  memcpy(c->data, req, len);
  c->data[len] = '\0';
  if (dev->cmd_count >= hub->cfg.command_queue) {
    hub_cmd_t *old = hub_device_pop_command(dev);
    hub_log(HUB_LOG_WARN, "device %s: %u commands wait already: dropped the oldest", dev->id,
            hub->cfg.command_queue);
    free(old);
  }
  if (dev->cmd_tail) {
    dev->cmd_tail->next = c;
  } else {
    dev->cmd_head = c;
  }
  dev->cmd_tail = c;
  dev->cmd_count++;
  hub_log(HUB_LOG_INFO, "device %s: command from MQTT (%zu bytes): %u waiting", dev->id, len, dev->cmd_count);
  hub_coap_notify(hub, dev->res_commands);
  hub_http_wake(hub, dev);
}

hub_cmd_t *hub_device_pop_command(hub_device_t *dev) {
  hub_cmd_t *c = dev->cmd_head;
  if (!c) return NULL;
  dev->cmd_head = c->next;
  if (!dev->cmd_head) dev->cmd_tail = NULL;
  dev->cmd_count--;
  c->next = NULL;
  return c;
}
