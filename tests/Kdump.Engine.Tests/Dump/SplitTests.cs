using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

public class SplitTests
{
    private static string Part(ulong start, ulong end, long timestamp = 1_700_000_000, DumpCompression c = DumpCompression.Zlib) =>
        SyntheticMemory.WriteTemp($"part-{start}", new KdumpCompressedWriter { Split = (start, end), Timestamp = timestamp, Compression = c }.Build());

    [Fact]
    public void PartsInAnyOrderOpenAsOneDumpBesideAnUnrelatedDump()
    {
        var whole = new KdumpCompressedWriter();
        var p2 = Part(100, 256);
        var other = SyntheticMemory.WriteTemp("other", new KdumpCompressedWriter { Release = "6.12.0-other" }.Build());
        var p1 = Part(0, 100);
        var results = DumpFile.OpenAll(new[] { p2, other, p1 });
        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.Null(r.Error));
        using var split = results[0].Dump!;
        using var o = results[1].Dump!;
        Assert.Equal(DumpFormat.Split, split.Format);
        Assert.Equal(DumpFormat.KdumpCompressed, split.PayloadFormat);
        Assert.Equal(new[] { p2, p1 }, split.Paths);
        Assert.Equal("6.12.0-other", o.KernelRelease);
        using var reference = TestDumps.Open(whole.Build());
        Assert.Equal(reference.DumpedPages, split.DumpedPages);
        for (ulong pfn = 0; pfn < 256; pfn++)
        {
            var a = TestDumps.ReadPage(reference, pfn, out var sa);
            var b = TestDumps.ReadPage(split, pfn, out var sb);
            Assert.Equal(sa, sb);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void AMissingPartIsAnErrorNamingTheRange()
    {
        var results = DumpFile.OpenAll(new[] { Part(0, 100), Part(150, 256) });
        var ex = Assert.Single(results).Error;
        Assert.NotNull(ex);
        Assert.Equal("VmcoreSplitIncomplete", ex!.ErrorId);
        Assert.Contains("[100, 150)", ex.Message);
        Assert.Contains("0x64000", ex.Message);

        var tail = DumpFile.OpenAll(new[] { Part(0, 100) });
        Assert.Equal("VmcoreSplitIncomplete", tail[0].Error!.ErrorId);
        Assert.Contains("[100, 256)", tail[0].Error!.Message);
    }

    [Fact]
    public void APartOfAnotherDumpDoesNotJoin()
    {
        var results = DumpFile.OpenAll(new[] { Part(0, 100), Part(100, 256, timestamp: 1_600_000_000) });
        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.Equal("VmcoreSplitIncomplete", r.Error!.ErrorId));
    }

    [Fact]
    public void OverlappingPartsAreRefused()
    {
        var results = DumpFile.OpenAll(new[] { Part(0, 120), Part(100, 256) });
        Assert.Equal("VmcoreSplitMismatch", Assert.Single(results).Error!.ErrorId);
    }
}
