#include "lua_iotkit.h"
void lk_fleet_open(lua_State *L) { (void)L; }
