#pragma once
#include <xcb/xcb.h>
#include <xcb/shm.h>
#include <xcb/xtest.h>
#include <xcb/randr.h>
#include <xcb/xcb_keysyms.h>
#include <sys/ipc.h>
#include <sys/shm.h>

// The extension ids are globals of incomplete type; Swift cannot import them directly.
static inline xcb_extension_t *cxcb_shm_id(void) { return &xcb_shm_id; }
static inline xcb_extension_t *cxcb_test_id(void) { return &xcb_test_id; }
static inline xcb_extension_t *cxcb_randr_id(void) { return &xcb_randr_id; }
