using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

public class FlattenedTests
{
    [Theory]
    [InlineData(DumpCompression.Zlib, 4096, true)]
    [InlineData(DumpCompression.Lzo, 1000, true)]
    [InlineData(DumpCompression.Snappy, 65536, false)]
    public void FlattenedKdumpReadsLikeItsRearrangedTwin(DumpCompression c, int chunk, bool shuffle)
    {
        var image = new KdumpCompressedWriter { Compression = c }.Build();
        var flat = new FlattenedWriter { ChunkSize = chunk, Shuffle = shuffle }.Build(image);
        using var plain = TestDumps.Open(image);
        using var d = TestDumps.Open(flat);
        Assert.Equal(DumpFormat.Flattened, d.Format);
        Assert.Equal(DumpFormat.KdumpCompressed, d.PayloadFormat);
        Assert.Equal(c, d.Compression);
        Assert.Equal(plain.DumpedPages, d.DumpedPages);
        Assert.Equal(plain.KernelRelease, d.KernelRelease);
        for (ulong p = 0; p < 256; p++)
        {
            var a = TestDumps.ReadPage(plain, p, out var sa);
            var b = TestDumps.ReadPage(d, p, out var sb);
            Assert.Equal(sa, sb);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void FlattenedElfIsRead()
    {
        var w = new ElfVmcoreWriter().AddVmcoreInfo("OSRELEASE=6.1.0-flat\nPAGESIZE=4096\n");
        w.AddRam(0, 0x8000);
        using var d = TestDumps.Open(new FlattenedWriter().Build(w.Build()));
        Assert.Equal(DumpFormat.Flattened, d.Format);
        Assert.Equal(DumpFormat.Elf, d.PayloadFormat);
        Assert.Equal("6.1.0-flat", d.KernelRelease);
        Assert.Equal(SyntheticMemory.Page(7), TestDumps.ReadPage(d, 7, out _));
    }

    [Fact]
    public void OverlappingRecordsAreAnErrorUnlessForcedThenLaterWins()
    {
        var image = new KdumpCompressedWriter { Compression = DumpCompression.None, StoreRaw = _ => true }.Build();
        var fw = new FlattenedWriter { Shuffle = false };
        // Find pfn 1's data by reading the plain dump, then overwrite its first bytes with a later record.
        using var plain = TestDumps.Open(image);
        var page1 = SyntheticMemory.Page(1);
        int at = IndexOf(image, page1);
        fw.ExtraRecords.Add((at, new byte[] { 0xde, 0xad, 0xbe, 0xef }));
        var flat = fw.Build(image);
        var ex = TestDumps.OpenFails(flat);
        Assert.Equal("VmcoreCorrupt", ex.ErrorId);
        Assert.Contains("overlap", ex.Message);
        using var d = TestDumps.Open(flat, force: true);
        var b = TestDumps.ReadPage(d, 1, out _);
        Assert.Equal(new byte[] { 0xde, 0xad, 0xbe, 0xef }, b[..4]);
        Assert.Equal(page1[4..], b[4..]);
    }

    [Theory]
    [InlineData(-5L, 16L, "offset")]
    [InlineData(0L, -1L, "size")]
    [InlineData(0L, 1L << 40, "size")]
    public void AbsurdRecordsAreCorrupt(long offset, long size, string field)
    {
        var fw = new FlattenedWriter { EndMarker = false };
        fw.RawRecordHeaders.Add((offset, size));
        var flat = fw.Build(new KdumpCompressedWriter().Build());
        var ex = TestDumps.OpenFails(flat);
        Assert.Equal("VmcoreCorrupt", ex.ErrorId);
        Assert.Contains(field, ex.Message);
    }

    [Fact]
    public void FlattenedHeaderWithWrongTypeIsCorrupt()
    {
        var flat = new FlattenedWriter().Build(new KdumpCompressedWriter().Build());
        flat[23] = 7;
        Assert.Equal("VmcoreCorrupt", TestDumps.OpenFails(flat).ErrorId);
    }

    private static int IndexOf(byte[] hay, byte[] needle) => hay.AsSpan().IndexOf(needle);
}
