// A Node-API addon that decodes JPEG with the system's libjpeg-turbo (SIMD),
// for agqg score's decode workers. Same decoder settings as PIL and as the
// WebAssembly build used otherwise (src/cli/jpeg-turbo.ts): ISLOW integer IDCT,
// fancy upsampling, so the pixels are the same; only faster. Optional: built at
// install when a C compiler and libjpeg's headers are there (scripts/build-native.mjs).
#include <node_api.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
// After stdio.h: jpeglib.h uses FILE.
#include <jpeglib.h>

struct err_mgr {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr cinfo) {
  struct err_mgr *err = (struct err_mgr *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

// Warnings (corrupt data libjpeg could skip) are counted, not printed: PIL ignores them too.
static void on_message(j_common_ptr cinfo, int level) {
  (void)cinfo;
  (void)level;
}

static napi_value fail(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

// decode(bytes: Uint8Array, into?: Uint8Array): { width, height, data: Uint8Array (RGBA), warnings: number }
// `data` is a view of the start of `into` when it is big enough (the caller reuses one buffer, no
// page faults or zeroing per image), else of a new buffer.
static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return fail(env, "EARG", "decode(bytes) takes one Uint8Array");
  napi_typedarray_type type;
  size_t length;
  void *bytes;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &bytes, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    return fail(env, "EARG", "decode(bytes) takes one Uint8Array");
  }

  struct jpeg_decompress_struct cinfo;
  struct err_mgr err;
  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  err.message[0] = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return fail(env, "EJPEG", err.message[0] ? err.message : "unreadable JPEG");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, (const unsigned char *)bytes, (unsigned long)length);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.num_components != 1 && cinfo.num_components != 3) {
    jpeg_destroy_decompress(&cinfo);
    return fail(env, "ECOMPONENTS", "only greyscale and YCbCr/RGB JPEGs are decoded natively");
  }
  cinfo.out_color_space = JCS_EXT_RGBA;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  const size_t width = cinfo.output_width, height = cinfo.output_height, stride = width * 4;
  napi_value buffer = NULL;
  void *data = NULL;
  size_t byte_offset = 0;
  if (argc >= 2) {
    napi_typedarray_type into_type;
    size_t into_length, into_offset;
    void *into_data;
    napi_value into_buffer;
    if (napi_get_typedarray_info(env, argv[1], &into_type, &into_length, &into_data, &into_buffer, &into_offset) == napi_ok &&
        into_type == napi_uint8_array && into_length >= stride * height) {
      buffer = into_buffer;
      data = into_data;
      byte_offset = into_offset;
    }
  }
  if (!buffer && napi_create_arraybuffer(env, stride * height, &data, &buffer) != napi_ok) {
    jpeg_destroy_decompress(&cinfo);
    return fail(env, "ENOMEM", "out of memory for the decoded image");
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = (unsigned char *)data + (size_t)cinfo.output_scanline * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  const long warnings = err.pub.num_warnings;
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);

  napi_value result, view, w, h, nw;
  napi_create_object(env, &result);
  napi_create_typedarray(env, napi_uint8_array, stride * height, buffer, byte_offset, &view);
  napi_create_uint32(env, (uint32_t)width, &w);
  napi_create_uint32(env, (uint32_t)height, &h);
  napi_create_int64(env, warnings, &nw);
  napi_set_named_property(env, result, "width", w);
  napi_set_named_property(env, result, "height", h);
  napi_set_named_property(env, result, "data", view);
  napi_set_named_property(env, result, "warnings", nw);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, version;
  napi_create_function(env, "decode", NAPI_AUTO_LENGTH, decode, NULL, &fn);
  napi_set_named_property(env, exports, "decode", fn);
  napi_create_int32(env, JPEG_LIB_VERSION, &version);
  napi_set_named_property(env, exports, "jpegLibVersion", version);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
