namespace Kdump.Engine.Tests.Writers;

/// <summary>
/// A small LZO1X compressor for tests: greedy 3-byte hash matching emitting M2 (short) and M3 matches and literal
/// runs, or literal-only streams. Its output is the format liblzo2's decompressor accepts.
/// </summary>
public static class Lzo1xCompressor
{
    public static byte[] Compress(ReadOnlySpan<byte> src, bool literalsOnly = false)
    {
        var o = new List<byte>(src.Length + src.Length / 16 + 64);
        var table = new int[1 << 12];
        Array.Fill(table, -1);
        int ip = 0, litStart = 0;
        bool first = true;
        int lastMatchPos = -1; // index in o of the byte whose low 2 bits carry trailing literals
        while (!literalsOnly && ip + 3 <= src.Length)
        {
            int h = ((src[ip] << 8) ^ (src[ip + 1] << 4) ^ src[ip + 2]) & 0xfff;
            int cand = table[h];
            table[h] = ip;
            if (cand >= 0 && ip - cand <= 0x4000 && src[cand] == src[ip] && src[cand + 1] == src[ip + 1] && src[cand + 2] == src[ip + 2] && !(first && ip - litStart == 0))
            {
                int len = 3;
                while (ip + len < src.Length && src[cand + len] == src[ip + len] && len < 264) len++;
                EmitLiterals(o, src[litStart..ip], ref first, ref lastMatchPos);
                int dist = ip - cand;
                if (len <= 8 && dist <= 0x800)
                {
                    o.Add((byte)(((len - 1) << 5) | (((dist - 1) & 7) << 2)));
                    o.Add((byte)((dist - 1) >> 3));
                    lastMatchPos = o.Count - 2;
                }
                else
                {
                    if (len - 2 <= 31) o.Add((byte)(32 | (len - 2)));
                    else { o.Add(32); EmitLength(o, len - 2 - 31); }
                    int w = (dist - 1) << 2;
                    o.Add((byte)w); o.Add((byte)(w >> 8));
                    lastMatchPos = o.Count - 2;
                }
                ip += len;
                litStart = ip;
            }
            else ip++;
        }
        EmitLiterals(o, src[litStart..], ref first, ref lastMatchPos);
        o.Add(0x11); o.Add(0); o.Add(0);
        return o.ToArray();
    }

    private static void EmitLiterals(List<byte> o, ReadOnlySpan<byte> lit, ref bool first, ref int lastMatchPos)
    {
        int n = lit.Length;
        if (n == 0) { first = false; return; }
        if (first && n <= 238)
        {
            o.Add((byte)(17 + n));
        }
        else if (!first && n <= 3 && lastMatchPos >= 0)
        {
            o[lastMatchPos] |= (byte)n; // trailing literals in the previous match's low bits
        }
        else
        {
            if (n < 4) throw new InvalidOperationException("unreachable: short literal run at start");
            int t = n - 3;
            if (t <= 15) o.Add((byte)t);
            else { o.Add(0); EmitLength(o, t - 15); }
        }
        foreach (var b in lit) o.Add(b);
        first = false;
        lastMatchPos = -1;
    }

    private static void EmitLength(List<byte> o, int v)
    {
        while (v > 255) { o.Add(0); v -= 255; }
        o.Add((byte)v);
    }
}
