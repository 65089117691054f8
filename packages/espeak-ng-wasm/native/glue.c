/* The C side of @taurobot/espeak-ng-wasm: a few functions around libespeak-ng for JavaScript.
 *
 * espeak-ng runs in synchronous mode: synth() returns once the whole text is spoken (or stopped),
 * and the samples are collected into one growable buffer that JavaScript copies out through
 * get_samples_ptr(). After each chunk of audio, espeak-ng asks JavaScript whether to stop, so a
 * long synthesis can be cancelled without throwing the engine away. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <emscripten/emscripten.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

static short *samples = NULL;
static int samples_length = 0;
static int samples_capacity = 0;
static int sample_rate = 0;
static int stopped = 0;
static int out_of_memory = 0;

/* Implemented in JavaScript: the caller's shouldStop(), asked once per chunk. Module.shouldStop is
 * set by the wrapper for the duration of one synth() call. */
EM_JS(int, should_stop, (void), {
  var shouldStop = Module["shouldStop"];
  return shouldStop ? (shouldStop() ? 1 : 0) : 0;
});

static int append_samples(const short *chunk, int length) {
  if (samples_length + length > samples_capacity) {
    int capacity = samples_capacity > 0 ? samples_capacity : 65536;
    while (capacity < samples_length + length) capacity *= 2;
    short *grown = realloc(samples, (size_t)capacity * sizeof(short));
    if (grown == NULL) return 0;
    samples = grown;
    samples_capacity = capacity;
  }
  memcpy(samples + samples_length, chunk, (size_t)length * sizeof(short));
  samples_length += length;
  return 1;
}

/* espeak-ng's synth callback: a non-zero return value stops the synthesis. A NULL chunk marks the end. */
static int on_chunk(short *chunk, int length, espeak_EVENT *events) {
  (void)events;
  if (chunk == NULL || length <= 0) return 0;
  if (!append_samples(chunk, length)) {
    out_of_memory = 1;
    return 1;
  }
  if (should_stop()) {
    stopped = 1;
    return 1;
  }
  return 0;
}

/* data_path: the directory holding espeak-ng-data/. Returns 0, or an espeak_ng_STATUS. */
EMSCRIPTEN_KEEPALIVE int init(const char *data_path) {
  espeak_ng_InitializePath(data_path);
  espeak_ng_STATUS status = espeak_ng_Initialize(NULL);
  if (status != ENS_OK) return (int)status;
  status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
  if (status != ENS_OK) return (int)status;
  espeak_SetSynthCallback(on_chunk);
  sample_rate = espeak_ng_GetSampleRate();
  return 0;
}

/* name: "it", "en-us", "it+Marco". Returns 0, or an espeak_ng_STATUS. */
EMSCRIPTEN_KEEPALIVE int set_voice(const char *name) {
  return (int)espeak_ng_SetVoiceByName(name);
}

/* rate: words per minute; volume: 0..200 (100 normal); pitch: 0..99 (50 normal). Returns 0, or
 * an espeak_ng_STATUS. Ranges are checked by the JavaScript side. */
EMSCRIPTEN_KEEPALIVE int set_params(int rate, int volume, int pitch) {
  espeak_ng_STATUS status = espeak_ng_SetParameter(espeakRATE, rate, 0);
  if (status == ENS_OK) status = espeak_ng_SetParameter(espeakVOLUME, volume, 0);
  if (status == ENS_OK) status = espeak_ng_SetParameter(espeakPITCH, pitch, 0);
  return (int)status;
}

/* Speaks UTF-8 text. Returns 0 (including when stopped, see was_stopped()), or an espeak_ng_STATUS. */
EMSCRIPTEN_KEEPALIVE int synth(const char *text) {
  samples_length = 0;
  stopped = 0;
  out_of_memory = 0;
  espeak_ng_STATUS status = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
                                                 espeakCHARS_UTF8, NULL, NULL);
  if (out_of_memory) return (int)ENOMEM;
  if (status == ENS_SPEECH_STOPPED && stopped) return 0;
  return (int)status;
}

EMSCRIPTEN_KEEPALIVE short *get_samples_ptr(void) { return samples; }
EMSCRIPTEN_KEEPALIVE int get_samples_length(void) { return samples_length; }
EMSCRIPTEN_KEEPALIVE int was_stopped(void) { return stopped; }
EMSCRIPTEN_KEEPALIVE int get_sample_rate(void) { return sample_rate; }
