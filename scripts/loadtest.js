// k6 load test of `stt serve`, reproducing the load test the replaced service was
// measured with (shared/api-contract.md): every virtual user posts a random
// LibriSpeech test-clean utterance as multipart `audio_file` with language=en-US to
// /transcriptions/process-isolated, thinks 1-3 s, and never reuses a connection;
// 180 s request timeout; thresholds p95 < 180 s and failures < 5 %.
//
// Run it through scripts/loadtest.sh (starts the servers), or directly:
//   k6 run -e PRESET=smoke -e BASE_URL=http://127.0.0.1:8000 scripts/loadtest.js
//
// Environment (all optional):
//   PRESET     smoke (5 VUs, 1 min) | full (the contract's: 100 VUs, 4-step ramp over
//              10 min, hold 5 min, ramp down 5 min) | steady (ramp 20 s, hold, 10 s down)
//   VUS        peak virtual users (overrides the preset's)
//   RAMP, HOLD, RAMP_DOWN   durations such as 30s or 2m (override the preset's;
//              the full preset ramps in four RAMP_STEP steps, default 150s each)
//   BASE_URL   server, default http://127.0.0.1:8000
//   BASE_URLS  comma-separated servers; requests go round-robin over them
//   HOST + PORTS   the same as BASE_URLS, e.g. HOST=127.0.0.1 PORTS=8000,8001
//   ENDPOINT   default /transcriptions/process-isolated
//   LANGUAGE   default en-US
//   EVAL_DIR   the shared eval folder (default ../../shared/eval from this script)
//   CLIP_SET   manifest set to draw from, default librispeech (16 kHz WAV and FLAC)

import http from 'k6/http';
import { check, sleep } from 'k6';

const env = (name, fallback) => (__ENV[name] !== undefined && __ENV[name] !== '' ? __ENV[name] : fallback);

function baseUrls() {
  if (__ENV.BASE_URLS) return __ENV.BASE_URLS.split(',').map((u) => u.trim()).filter(Boolean);
  if (__ENV.PORTS) {
    const host = env('HOST', '127.0.0.1');
    return __ENV.PORTS.split(',').map((p) => `http://${host}:${p.trim()}`);
  }
  return [env('BASE_URL', 'http://127.0.0.1:8000')];
}

const BASE_URLS = baseUrls();
const ENDPOINT = env('ENDPOINT', '/transcriptions/process-isolated');
const LANGUAGE = env('LANGUAGE', 'en-US');
const EVAL_DIR = env('EVAL_DIR', '../../shared/eval');
const CLIP_SET = env('CLIP_SET', 'librispeech');

// The contract's kind of input: LibriSpeech test-clean utterances, 16 kHz mono,
// as WAV (and FLAC, the corpus's own format). k6 cannot list folders: read the manifest.
const CLIPS = open(`${EVAL_DIR}/manifest.jsonl`)
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line))
  .filter((c) => c.set === CLIP_SET && c.sample_rate === 16000 && /\.(wav|flac)$/.test(c.path))
  .map((c) => ({
    name: c.path.split('/').pop(),
    type: c.path.endsWith('.flac') ? 'audio/flac' : 'audio/wav',
    data: open(`${EVAL_DIR}/${c.path}`, 'b'),
  }));
if (CLIPS.length === 0) throw new Error(`no ${CLIP_SET} clips found in ${EVAL_DIR}/manifest.jsonl`);

function stages() {
  const preset = env('PRESET', 'smoke');
  const vus = parseInt(env('VUS', preset === 'full' ? '100' : preset === 'smoke' ? '5' : '20'), 10);
  if (preset === 'full') {
    const step = env('RAMP_STEP', '150s'); // four steps: 10 min to the peak
    return [
      { duration: step, target: Math.round(vus / 4) },
      { duration: step, target: Math.round(vus / 2) },
      { duration: step, target: Math.round((vus * 3) / 4) },
      { duration: step, target: vus },
      { duration: env('HOLD', '5m'), target: vus },
      { duration: env('RAMP_DOWN', '5m'), target: 0 },
    ];
  }
  if (preset === 'smoke') {
    return [
      { duration: env('RAMP', '10s'), target: vus },
      { duration: env('HOLD', '40s'), target: vus },
      { duration: env('RAMP_DOWN', '10s'), target: 0 },
    ];
  }
  if (preset === 'steady') {
    return [
      { duration: env('RAMP', '20s'), target: vus },
      { duration: env('HOLD', '2m'), target: vus },
      { duration: env('RAMP_DOWN', '10s'), target: 0 },
    ];
  }
  throw new Error(`unknown PRESET ${preset}: use smoke, full or steady`);
}

export const options = {
  stages: stages(),
  noConnectionReuse: true,
  thresholds: {
    http_req_duration: ['p(95)<180000'],
    http_req_failed: ['rate<0.05'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

export default function () {
  const clip = CLIPS[Math.floor(Math.random() * CLIPS.length)];
  const base = BASE_URLS[(__VU + __ITER) % BASE_URLS.length];
  const body = {
    audio_file: http.file(clip.data, clip.name, clip.type),
    language: LANGUAGE,
  };
  const res = http.post(`${base}${ENDPOINT}`, body, { timeout: '180s', tags: { name: ENDPOINT } });

  let json = null;
  try {
    json = res.json();
  } catch (_) {
    json = null;
  }
  check(res, {
    'status is 200': (r) => r.status === 200,
    'original_text present': () => json !== null && json.original_text !== undefined && json.original_text !== null,
    'translated_text present': () => json !== null && json.translated_text !== undefined && json.translated_text !== null,
    'segments is an array': () => json !== null && Array.isArray(json.segments),
    'first segment has text/start_time/end_time/confidence': () => {
      if (json === null || !Array.isArray(json.segments)) return false;
      if (json.segments.length === 0) return true;
      const s = json.segments[0];
      return ['text', 'start_time', 'end_time', 'confidence'].every((k) => s[k] !== undefined && s[k] !== null);
    },
  });
  sleep(1 + Math.random() * 2);
}
