using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

public class Lzo1xTests
{
    public static TheoryData<string, bool> Inputs => new()
    {
        { "synthetic", false }, { "synthetic", true }, { "zeros", false }, { "text", false }, { "random", false }, { "runs", false }, { "tiny", false },
    };

    private static byte[] Make(string kind) => kind switch
    {
        "synthetic" => SyntheticMemory.Page(42),
        "zeros" => new byte[4096],
        "text" => System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 300).Select(i => $"line {i % 17} of the kernel log\n")))[..4096],
        "random" => Enumerable.Range(0, 4096).Select(i => (byte)new Random(i).Next()).ToArray(),
        "runs" => Enumerable.Range(0, 4096).Select(i => (byte)(i / 300)).ToArray(),
        "tiny" => new byte[] { 1, 2, 3, 1, 2, 3, 1, 2, 3, 9 },
        _ => throw new ArgumentException(kind),
    };

    [Theory, MemberData(nameof(Inputs))]
    public void RoundTrips(string kind, bool literalsOnly)
    {
        var src = Make(kind);
        var c = Lzo1xCompressor.Compress(src, literalsOnly);
        var dst = new byte[src.Length];
        Assert.True(Lzo1x.TryDecompress(c, dst, out int n));
        Assert.Equal(src.Length, n);
        Assert.Equal(src, dst);
        if (kind == "zeros") Assert.True(c.Length < 100, $"zeros compressed to {c.Length}");
    }

    [Fact]
    public void DecodesHandWrittenStreamWithM2M3AndTrailingLiterals()
    {
        // "abcd" literals (17+4), M2 len 3 dist 4 with 1 trailing literal 'x', M3 len 5 dist 8, end marker.
        byte[] s = { 21, (byte)'a', (byte)'b', (byte)'c', (byte)'d', (byte)((2 << 5) | (3 << 2) | 1), 0, (byte)'x', 32 | 3, (7 << 2) & 0xff, 0, 0x11, 0, 0 };
        var dst = new byte[13];
        Assert.True(Lzo1x.TryDecompress(s, dst, out int n));
        Assert.Equal("abcdabcxabcda", System.Text.Encoding.ASCII.GetString(dst, 0, n));
    }

    [Fact]
    public void RejectsEveryTruncationAndCorruptionWithoutThrowing()
    {
        var src = SyntheticMemory.Page(7);
        var c = Lzo1xCompressor.Compress(src);
        var dst = new byte[4096];
        for (int cut = 0; cut < c.Length; cut += Math.Max(1, c.Length / 200))
            Assert.False(Lzo1x.TryDecompress(c.AsSpan(0, cut), dst, out _));
        var rng = new Random(1);
        for (int i = 0; i < 2000; i++)
        {
            var bad = (byte[])c.Clone();
            bad[rng.Next(bad.Length)] ^= (byte)(1 + rng.Next(255));
            Lzo1x.TryDecompress(bad, dst, out _); // must not throw or overrun
        }
        // Output that does not fit is refused.
        Assert.False(Lzo1x.TryDecompress(c, new byte[100], out _));
        // A back-reference before the output start is refused.
        Assert.False(Lzo1x.TryDecompress(new byte[] { 21, 1, 2, 3, 4, 32 | 3, 0xff, 0x3f, 0x11, 0, 0 }, dst, out _));
    }
}
