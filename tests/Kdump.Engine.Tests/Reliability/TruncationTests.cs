using Kdump.Engine.Dump;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Reliability;

/// <summary>Issue 10 item 3: a dump cut short opens as incomplete, counts its lost pages, and reads them as PageLost.</summary>
public class TruncationTests
{
    [Fact]
    public void KdumpWithItsPageDataCutShortOpensIncompleteWithTheLostCount()
    {
        var full = new KdumpCompressedWriter { Compression = DumpCompression.Zlib, MaxMapnr = 3000 }.Build();
        var cut = full[..(full.Length - 200_000)];
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = TestDumps.Open(cut, host: host, recover: false);
        Assert.True(d.Incomplete);
        Assert.True(d.LostPages > 0, $"lost {d.LostPages}");
        Assert.Contains(warnings, w => w.Contains("truncated", StringComparison.Ordinal));
        Assert.Contains(d.Problems, p => p.StartsWith("truncated", StringComparison.Ordinal));
        // The last dumped non-zero page is lost, and reads say so.
        ulong last = d.EnumerateDumpedPfns().Last(p => p % 5 != 0);
        Assert.Equal(PageStatus.Lost, d.ReadPage(last, new byte[4096]));
        var ex = Assert.Throws<MemoryFaultException>(() => d.ReadPhysical(last * 4096, new byte[8]));
        Assert.Equal("PageLost", ex.ErrorId);
        // The pages before the cut are intact, and the lost count is exactly the unreadable dumped pages.
        var pfns = d.EnumerateDumpedPfns().ToArray();
        var st = new PageStatus[pfns.Length];
        d.ReadPages(pfns, new byte[pfns.Length * 4096L], st);
        Assert.Equal(d.LostPages, (ulong)st.Count(s => s == PageStatus.Lost));
        Assert.Equal(0, st.Count(s => s == PageStatus.Corrupt));
        Assert.Equal(PageStatus.Present, st[0]);
    }

    [Fact]
    public void AHealthyKdumpHasNoProblems()
    {
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = TestDumps.Open(new KdumpCompressedWriter { MaxMapnr = 3000 }.Build(), host: host, recover: false);
        Assert.False(d.Incomplete);
        Assert.Equal(0UL, d.LostPages);
        Assert.Empty(d.Problems);
        Assert.Empty(warnings);
    }

    [Fact]
    public void FlattenedStreamCutShortOpensIncomplete()
    {
        var image = new KdumpCompressedWriter { Compression = DumpCompression.Zlib, MaxMapnr = 3000 }.Build();
        var flat = new FlattenedWriter { ChunkSize = 65536, Shuffle = false }.Build(image);
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = TestDumps.Open(flat[..(flat.Length - 100_000)], host: host, recover: false);
        Assert.True(d.Incomplete);
        Assert.True(d.LostPages > 0);
        Assert.Contains(warnings, w => w.Contains("truncated", StringComparison.Ordinal));
        ulong last = d.EnumerateDumpedPfns().Last(p => p % 5 != 0);
        Assert.Equal(PageStatus.Lost, d.ReadPage(last, new byte[4096]));
    }

    [Fact]
    public void SplitPartCutShortMakesTheSetIncomplete()
    {
        var a = new KdumpCompressedWriter { MaxMapnr = 3000, Split = (0, 1500) }.Build();
        var b = new KdumpCompressedWriter { MaxMapnr = 3000, Split = (1500, 3000) }.Build();
        string pa = SyntheticMemory.WriteTemp("trunc-split.1", a), pb = SyntheticMemory.WriteTemp("trunc-split.2", b[..(b.Length - 100_000)]);
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = DumpFile.OpenAll(new[] { pa, pb }, new DumpOpenOptions { RecoverVmcoreInfo = false }, host)[0].Dump!;
        Assert.Equal(DumpFormat.Split, d.Format);
        Assert.True(d.Incomplete);
        Assert.True(d.LostPages > 0);
        Assert.Contains(d.Problems, p => p.Contains(pb, StringComparison.Ordinal));
        Assert.Equal(PageStatus.Lost, d.ReadPage(d.EnumerateDumpedPfns().Last(p => p % 5 != 0), new byte[4096]));
    }

    /// <summary>The repro: the sample cut at 4,000,000 bytes. Types and symbols in lost pages fail as PageLost.</summary>
    [SampleFact]
    public void TheSampleCutAt4MBReportsTheLossNotMissingDebuginfo()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"))[..4_000_000];
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = TestDumps.Open(bytes, "t.kdump", host: host);
        Assert.True(d.Incomplete);
        Assert.True(d.LostPages > 1000, $"lost {d.LostPages}");
        Assert.Contains(warnings, w => w.Contains("truncated", StringComparison.Ordinal));
        using var v = new Vmcore(d);
        var ex = Assert.ThrowsAny<KdumpException>(() => Kdump.Engine.Linux.Tasks.TaskTable.Build(v.Kernel));
        Assert.True(ex.ErrorId == "PageLost", $"{ex.ErrorId}: {ex.Message}");
        Assert.DoesNotContain("debuginfo", ex.Message, StringComparison.OrdinalIgnoreCase);
    }
}
