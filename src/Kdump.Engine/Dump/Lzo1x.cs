namespace Kdump.Engine.Dump;

/// <summary>
/// A safe LZO1X decompressor (the format liblzo2's lzo1x_1 compressor writes and makedumpfile -l stores).
/// Every input and output access is bounds-checked; malformed data returns false, never throws or overruns.
/// Written from the format's description: instructions are literal runs and matches (M1..M4) whose low two
/// bits carry 0-3 trailing literals; M4 with distance 0x4000 and length 3 ends the stream.
/// </summary>
public static class Lzo1x
{
    private const int M2MaxOffset = 0x0800;

    /// <summary>Decompresses <paramref name="src"/> into <paramref name="dst"/>; returns false on malformed input or overflow.</summary>
    public static bool TryDecompress(ReadOnlySpan<byte> src, Span<byte> dst, out int written)
    {
        written = 0;
        int ip = 0, op = 0;
        int state = 0; // 0: after a match with no trailing literals; 1-3: after 1-3 trailing literals; 4: after a literal run
        int t, next;
        if (src.Length < 3) return false;

        if (src[0] > 17)
        {
            t = src[ip++] - 17;
            if (t < 4)
            {
                if (!CopyLiterals(src, ref ip, dst, ref op, t)) return false;
                state = t;
            }
            else
            {
                if (!CopyLiterals(src, ref ip, dst, ref op, t)) return false;
                state = 4;
            }
        }

        while (true)
        {
            if (ip >= src.Length) return false;
            t = src[ip++];
            int dist, len;
            if (t < 16)
            {
                if (state == 0)
                {
                    if (t == 0 && !ReadLength(src, ref ip, 15, ref t)) return false;
                    t += 3;
                    if (!CopyLiterals(src, ref ip, dst, ref op, t)) return false;
                    state = 4;
                    continue;
                }
                if (ip >= src.Length) return false;
                next = t & 3;
                if (state != 4)
                {
                    dist = 1 + (t >> 2) + (src[ip++] << 2);
                    len = 2;
                }
                else
                {
                    dist = 1 + M2MaxOffset + (t >> 2) + (src[ip++] << 2);
                    len = 3;
                }
            }
            else if (t >= 64)
            {
                if (ip >= src.Length) return false;
                next = t & 3;
                dist = 1 + ((t >> 2) & 7) + (src[ip++] << 3);
                len = (t >> 5) + 1;
            }
            else if (t >= 32)
            {
                len = t & 31;
                if (len == 0 && !ReadLength(src, ref ip, 31, ref len)) return false;
                len += 2;
                if (ip + 2 > src.Length) return false;
                int w = src[ip] | (src[ip + 1] << 8);
                ip += 2;
                dist = 1 + (w >> 2);
                next = w & 3;
            }
            else
            {
                // 16..31: M4, distance 16385..49151, or the end of stream marker.
                int hi = (t & 8) << 11;
                len = t & 7;
                if (len == 0 && !ReadLength(src, ref ip, 7, ref len)) return false;
                len += 2;
                if (ip + 2 > src.Length) return false;
                int w = src[ip] | (src[ip + 1] << 8);
                ip += 2;
                next = w & 3;
                dist = hi + (w >> 2);
                if (dist == 0)
                {
                    // End of stream: must be exactly length 3 and consume all the input.
                    written = op;
                    return len == 3 && ip == src.Length;
                }
                dist += 0x4000;
            }

            if (dist > op || len > dst.Length - op) return false;
            int from = op - dist;
            if (dist >= len) dst.Slice(from, len).CopyTo(dst.Slice(op, len));
            else if (dist == 1) dst.Slice(op, len).Fill(dst[from]);
            else
            {
                // An overlapping match repeats the last dist bytes: copy whole periods, doubling the span each time
                // (source and destination never overlap, and every copy starts at a multiple of dist).
                for (int done = 0; done < len;)
                {
                    int c = Math.Min(dist + done, len - done);
                    dst.Slice(from, c).CopyTo(dst.Slice(op + done, c));
                    done += c;
                }
            }
            op += len;

            if (!CopyLiterals(src, ref ip, dst, ref op, next)) return false;
            state = next;
        }
    }

    /// <summary>A length continued in zero bytes (255 each) and a final non-zero byte, plus <paramref name="bias"/>.</summary>
    private static bool ReadLength(ReadOnlySpan<byte> src, ref int ip, int bias, ref int value)
    {
        long v = 0;
        while (ip < src.Length && src[ip] == 0)
        {
            v += 255;
            ip++;
            if (v > int.MaxValue / 2) return false;
        }
        if (ip >= src.Length) return false;
        v += bias + src[ip++];
        value = (int)v;
        return true;
    }

    private static bool CopyLiterals(ReadOnlySpan<byte> src, ref int ip, Span<byte> dst, ref int op, int count)
    {
        if (count == 0) return true;
        if (count > src.Length - ip || count > dst.Length - op) return false;
        src.Slice(ip, count).CopyTo(dst.Slice(op, count));
        ip += count;
        op += count;
        return true;
    }
}
