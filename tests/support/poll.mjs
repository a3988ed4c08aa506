// Polling for the JavaScript test programs (tests/web, tests/lighthouse): asks `condition` again,
// the pauses doubling from 1 ms up to `maxPauseMs`, until it holds; past `timeoutMs`, throws
// `failure()`'s text. Nothing waits longer than the condition takes to come true.
export async function pollUntil(condition, failure, timeoutMs, maxPauseMs) {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 1; !(await condition()); pause = Math.min(pause * 2, maxPauseMs)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(failure());
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
  }
}
