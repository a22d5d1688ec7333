"""Times aubio (onset 'default' + tempo 'default', hop 512, causal, frame by
frame) on the given audio files, as ../shared/tools/peer_eval.py runs it.
Prints one line: `aubio <seconds of audio> <wall seconds>`. Used by
`sonolux bench analysis` to compare speeds in the same run."""
import sys, time
import numpy as np
import aubio
import soundfile as sf

clips = []
for path in sys.argv[1:]:
    x, sr = sf.read(path, dtype='float32', always_2d=True)
    clips.append((np.ascontiguousarray(x.mean(axis=1), dtype=np.float32), sr))
audio = sum(len(x) / sr for x, sr in clips)
t0 = time.perf_counter()
for x, sr in clips:
    win, hop = 1024, 512
    o = aubio.onset('default', win, hop, sr)
    t = aubio.tempo('default', win, hop, sr)
    pad = np.zeros(hop, dtype=np.float32)
    for i in range(len(x) // hop + 1):
        frame = x[i * hop:(i + 1) * hop]
        if len(frame) < hop:
            pad[:] = 0
            pad[:len(frame)] = frame
            frame = pad
        o(frame)
        t(frame)
wall = time.perf_counter() - t0
print('aubio %.3f %.6f' % (audio, wall))
