using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

/// <summary>
/// The batched bulk reader (descriptors per batch, data windows, the shared zero page read once) must give exactly
/// what single-page reads give: bytes and the reason per page, whatever the order of the pfns, on one core or all.
/// </summary>
public class BulkReadTests
{
    private static void AssertBulkMatchesSingle(byte[] image, ulong maxPfn, Func<ulong[], ulong[]>? order = null)
    {
        string name = "bulk-" + Guid.NewGuid().ToString("n");
        using var single = TestDumps.Open(image, name, recover: false);
        var pfns = Enumerable.Range(0, (int)maxPfn + 3).Select(i => (ulong)i).ToArray(); // past the end too
        if (order is not null) pfns = order(pfns);
        var expect = new byte[pfns.Length][];
        var expectSt = new PageStatus[pfns.Length];
        for (int i = 0; i < pfns.Length; i++) expect[i] = TestDumps.ReadPage(single, pfns[i], out expectSt[i]);
        foreach (int dop in new[] { 1, -1, 3 })
        {
            using var bulk = TestDumps.Open(image, name, recover: false);
            var buf = new byte[pfns.Length * 4096];
            buf.AsSpan().Fill(0xcc); // unreadable pages must come back zeroed
            var st = new PageStatus[pfns.Length];
            bulk.ReadPages(pfns.ToList(), buf, st, dop);
            for (int i = 0; i < pfns.Length; i++)
            {
                Assert.True(expectSt[i] == st[i], $"pfn {pfns[i]} (dop {dop}): bulk {st[i]}, single {expectSt[i]}");
                var page = buf.AsSpan(i * 4096, 4096).ToArray();
                if (st[i] == PageStatus.Present) Assert.True(expect[i].AsSpan().SequenceEqual(page), $"pfn {pfns[i]} (dop {dop}): bytes differ");
                else Assert.True(page.All(b => b == 0), $"pfn {pfns[i]} (dop {dop}): an unreadable page is not zeroed");
            }
        }
    }

    [Theory]
    [InlineData(DumpCompression.Zlib)]
    [InlineData(DumpCompression.Lzo)]
    [InlineData(DumpCompression.Snappy)]
    [InlineData(DumpCompression.Zstd)]
    [InlineData(DumpCompression.None)]
    public void BulkEqualsSingleWithZeroPageExcludedAndHoles(DumpCompression c)
    {
        // Zero pages share one stored page that lies before all other data; excluded pages and holes between.
        var w = new KdumpCompressedWriter { Compression = c, MaxMapnr = 5000, DumpLevel = 31, IsRam = p => p % 1000 < 900 };
        AssertBulkMatchesSingle(w.Build(), 5000);
    }

    [Fact]
    public void BulkEqualsSingleInReverseAndShuffledOrder()
    {
        var image = new KdumpCompressedWriter { MaxMapnr = 3000 }.Build();
        AssertBulkMatchesSingle(image, 3000, p => p.Reverse().ToArray());
        AssertBulkMatchesSingle(image, 3000, p => { var r = new Random(7); var a = p.ToArray(); r.Shuffle(a); return a; });
        AssertBulkMatchesSingle(image, 3000, p => p.Concat(p.Take(600)).ToArray()); // repeated pfns
    }

    [Fact]
    public void BulkGivesCorruptForGarbagePagesAndReadsTheirNeighbours()
    {
        var w = new KdumpCompressedWriter
        {
            Compression = DumpCompression.Zlib, MaxMapnr = 2000,
            Mangle = (pfn, stored) => pfn % 97 == 3 ? stored.Select((b, i) => (byte)(b ^ (i * 31 + 7))).ToArray() : stored,
        };
        var image = w.Build();
        AssertBulkMatchesSingle(image, 2000);
        using var d = TestDumps.Open(image, recover: false);
        var st = new PageStatus[2000];
        d.ReadPages(0, new byte[2000 * 4096], st);
        Assert.Contains(PageStatus.Corrupt, st);
    }

    [Fact]
    public void BulkGivesLostForAnIncompleteDump()
    {
        var w = new KdumpCompressedWriter { Compression = DumpCompression.Lzo, MaxMapnr = 3000, WrittenDescriptors = 1500 };
        var image = w.Build();
        AssertBulkMatchesSingle(image, 3000);
        using var d = TestDumps.Open(image, recover: false);
        var st = new PageStatus[3000];
        d.ReadPages(0, new byte[3000 * 4096], st);
        Assert.Contains(PageStatus.Lost, st);
        Assert.Contains(PageStatus.Present, st);
    }

    [Fact]
    public void BulkOnAFlattenedStreamWithSmallShuffledRecords()
    {
        var image = new KdumpCompressedWriter { Compression = DumpCompression.Zstd, MaxMapnr = 3000 }.Build();
        AssertBulkMatchesSingle(new FlattenedWriter { ChunkSize = 1000, Shuffle = true }.Build(image), 3000);
    }

    [Fact]
    public void BulkOnATruncatedFileWithForce()
    {
        var image = new KdumpCompressedWriter { Compression = DumpCompression.Zlib, MaxMapnr = 3000 }.Build();
        var cut = image[..(image.Length - 20000)];
        using var single = TestDumps.Open(cut, force: true, recover: false);
        using var bulk = TestDumps.Open(cut, force: true, recover: false);
        var st = new PageStatus[3000];
        var buf = new byte[3000 * 4096];
        bulk.ReadPages(0, buf, st);
        for (ulong p = 0; p < 3000; p++)
        {
            var one = TestDumps.ReadPage(single, p, out var s1);
            Assert.Equal(s1, st[p]);
            if (s1 == PageStatus.Present) Assert.Equal(one, buf.AsSpan((int)p * 4096, 4096).ToArray());
        }
        Assert.Contains(st, s => s is PageStatus.Lost or PageStatus.Corrupt);
    }

    [Fact]
    public void SplitSetBulkEqualsSingle()
    {
        var a = new KdumpCompressedWriter { MaxMapnr = 3000, Split = (0, 1234) }.Build();
        var b = new KdumpCompressedWriter { MaxMapnr = 3000, Split = (1234, 3000) }.Build();
        string pa = SyntheticMemory.WriteTemp("bulk-split.1", a), pb = SyntheticMemory.WriteTemp("bulk-split.2", b);
        using var whole = TestDumps.Open(new KdumpCompressedWriter { MaxMapnr = 3000 }.Build(), recover: false);
        using var split = DumpFile.OpenAll(new[] { pa, pb }, new DumpOpenOptions { RecoverVmcoreInfo = false })[0].Dump!;
        Assert.Equal(DumpFormat.Split, split.Format);
        var st = new PageStatus[3000];
        var buf = new byte[3000 * 4096];
        split.ReadPages(0, buf, st);
        for (ulong p = 0; p < 3000; p++)
        {
            var one = TestDumps.ReadPage(whole, p, out var s1);
            Assert.Equal(s1, st[p]);
            if (s1 == PageStatus.Present) Assert.Equal(one, buf.AsSpan((int)p * 4096, 4096).ToArray());
        }
    }
}
