using System.IO.Compression;
using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

/// <summary>The zlib page path (system libz with a reused inflate state, or System.IO.Compression) on good and bad data.</summary>
public class ZlibPageTests
{
    private static byte[] Compress(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }

    public static IEnumerable<object[]> Paths() => new[] { new object[] { true }, new object[] { false } };

    private static string? Inflate(bool native, byte[] src, byte[] dst)
    {
        if (native) return NativeZlib.Inflate(src, dst);
        try { return PageDecompressor.Zlib(src, dst); }
        catch (InvalidDataException ex) { return ex.Message; } // PageDecompressor.Decompress turns these into reasons
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void GoodAndBadPagesInAnyOrderOnOneState(bool native)
    {
        if (native && !NativeZlib.Available) return; // no usable system libz here: the managed path is used
        var dst = new byte[4096];
        for (ulong p = 0; p < 50; p++)
        {
            var page = SyntheticMemory.Page(p);
            var good = Compress(page);
            Assert.Null(Inflate(native, good, dst));
            Assert.Equal(page, dst);
            // garbage, truncated and oversized data each give a reason, and the next good page still inflates
            var garbage = good.Select((b, i) => i < 2 ? b : (byte)(b ^ 0x5a)).ToArray();
            Assert.NotNull(Inflate(native, garbage, dst));
            Assert.NotNull(Inflate(native, good[..(good.Length / 2)], dst));
            Assert.NotNull(Inflate(native, Compress(SyntheticMemory.Page(p).Concat(new byte[100]).ToArray()), dst));
            Assert.NotNull(Inflate(native, Compress(page[..4000]), dst));
            Assert.NotNull(Inflate(native, new byte[] { 1, 2 }, dst));
        }
    }

    [Fact]
    public void NativeIsUsedOn64BitLinux()
    {
        if (OperatingSystem.IsLinux() && Environment.Is64BitProcess && File.Exists("/usr/lib/x86_64-linux-gnu/libz.so.1"))
            Assert.True(NativeZlib.Available);
    }

    [Fact]
    public void ThreadsInflateConcurrently()
    {
        var pages = Enumerable.Range(0, 64).Select(i => SyntheticMemory.Page((ulong)i)).ToArray();
        var stored = pages.Select(Compress).ToArray();
        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var dst = new byte[4096];
            Assert.Null(PageDecompressor.Decompress(DumpCompression.Zlib, stored[i % 64], dst));
            Assert.Equal(pages[i % 64], dst);
        });
    }
}
