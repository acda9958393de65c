using System.Buffers.Binary;
using System.Diagnostics;
using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Reliability;

/// <summary>
/// Issue 10 item 4: small forged files open (or fail) at once, whatever their headers claim. Each runs under a generous
/// watchdog (the work must be bounded by the file, not the header); the structural assertions say why it is fast.
/// </summary>
public class ForgedFileTests
{
    private static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(20);

    private static T Within<T>(Func<CancellationToken, T> f)
    {
        using var cts = new CancellationTokenSource(Watchdog);
        var task = Task.Run(() => f(cts.Token));
        Assert.True(task.Wait(Watchdog + TimeSpan.FromSeconds(10)), "the open did not finish under the watchdog");
        return task.Result;
    }

    [Fact]
    public void AnElfWithOneTerabytePtLoadAndNoNotesOpensAtOnce()
    {
        // 8 KiB: ELF header, one PT_LOAD of 2^40 bytes at offset 0x1000 (e_flags: incomplete), no PT_NOTE.
        var w = new ElfVmcoreWriter { Flags = 1 };
        w.Loads.Add(new ElfVmcoreWriter.Load(0, 0, 1UL << 40, 0x1000));
        var image = w.Build();
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(64 + 56 + 32), 1UL << 40); // the PT_LOAD's p_filesz
        // drop the (empty) PT_NOTE: make it a PT_NULL
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(64), 0);
        Assert.True(image.Length <= 8192);
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = Within(ct => TestDumps.Open(image, "forged.elf", host: new EngineHost { Warning = host.Warning, Cancellation = ct }));
        Assert.True(d.Incomplete);
        Assert.Equal((1UL << 40) / 4096 - 1, d.LostPages);
        Assert.Null(d.VmcoreInfo);
        // The recovery scan looked only at the one page the file holds.
        Assert.Single(d.EnumerateStoredPfns());
    }

    [Fact]
    public void AKdumpWithMaxMapnrTwoToTheThirtyInASmallFlattenedStreamFailsAtOnce()
    {
        // A 2^30-frame header whose 256 MiB of bitmaps would have to come from the holes of a small flattened stream.
        var w = new KdumpCompressedWriter { MaxMapnr = 1UL << 20, IsRam = p => p < 256, IsDumped = p => p < 256 };
        var image = w.Build();
        var forged = (byte[])image.Clone();
        // max_mapnr (header), max_mapnr_64 (sub-header) and bitmap_blocks (header: two 128 MiB bitmaps) for 2^30 frames
        BinaryPrimitives.WriteUInt32LittleEndian(forged.AsSpan(440), 1U << 30);
        BinaryPrimitives.WriteUInt64LittleEndian(forged.AsSpan(4096 + 96), 1UL << 30);
        BinaryPrimitives.WriteUInt32LittleEndian(forged.AsSpan(436), 65536);
        // A record far out makes the rearranged file 400 MiB long; the stream itself stays small.
        var fw = new FlattenedWriter { ChunkSize = 65536, Shuffle = false };
        fw.ExtraRecords.Add((400L << 20, new byte[16]));
        var flat = fw.Build(forged);
        Assert.True(flat.Length < 2 << 20);
        var ex = Within(_ => Assert.ThrowsAny<KdumpException>(() => TestDumps.Open(flat, "forged.flat")));
        Assert.True(ex.ErrorId is "VmcoreCorrupt" or "VmcoreLimitExceeded", ex.Message);
    }

    [Fact]
    public void AKdumpClaimingMillionsOfDumpedPagesScansOnlyTheDescriptorsItHolds()
    {
        // max_mapnr 2^24 with every frame dumped, but the file stops after 1000 descriptors: the VMCOREINFO
        // recovery scan and the lost-page count stay within the file.
        var w = new KdumpCompressedWriter { MaxMapnr = 1UL << 24, IsRam = _ => true, IsDumped = p => p < 4096, VmcoreInfoText = null, ExtraStatus = 0x8 };
        var image = w.Build();
        var h = KdumpHeader.Read(new Fuzz.MutantSource("h", image, image.Length, new()));
        long bitmap2 = (1L + h.SubHdrSize) * h.BlockSize + (long)h.BitmapBlocks * h.BlockSize / 2;
        long desc = bitmap2 + (long)h.BitmapBlocks * h.BlockSize / 2;
        var forged = image[..(int)(desc + 1000 * 24)];
        forged.AsSpan((int)bitmap2, (int)(desc - bitmap2)).Fill(0xff); // every frame dumped
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = Within(ct => TestDumps.Open(forged, "forged.kdump", host: new EngineHost { Warning = host.Warning, Cancellation = ct }));
        Assert.True(d.Incomplete);
        Assert.Equal(1UL << 24, d.DumpedPages);
        Assert.Equal(1000, d.EnumerateStoredPfns().Count());
        Assert.Equal((1UL << 24), d.LostPages); // 1000 descriptors point past the end, the rest are missing
    }

    [Fact]
    public void ForceRepairOfFiftyThousandOverlappingFlattenedRecordsIsNLogN()
    {
        var image = new KdumpCompressedWriter { MaxMapnr = 600 }.Build();
        var fw = new FlattenedWriter { ChunkSize = 4096, Shuffle = false };
        // 50,000 small records that all overlap each other over the data area, written after the real ones.
        var rng = new Random(5);
        long lo = 4 * 4096, span = image.Length - lo - 512;
        for (int i = 0; i < 50_000; i++)
        {
            long off = lo + rng.NextInt64(span);
            fw.ExtraRecords.Add((off, image.AsSpan((int)off, 256).ToArray()));
        }
        var flat = fw.Build(image);
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = Within(_ => TestDumps.Open(flat, "overlap.flat", force: true, host: host, recover: false));
        Assert.Contains(warnings, w => w.Contains("overlap", StringComparison.Ordinal));
        // The extra records repeat the image's own bytes, so the repaired dump reads exactly like the original.
        using var orig = TestDumps.Open(image, recover: false);
        foreach (var pfn in orig.EnumerateDumpedPfns())
            Assert.Equal(TestDumps.ReadPage(orig, pfn, out _), TestDumps.ReadPage(d, pfn, out _));
    }

    [Fact]
    public void LaterWinsKeepsTheLatestRecordForEveryByte()
    {
        // Reference: paint a byte map in stream order; the sweep must agree on every byte.
        var rng = new Random(11);
        for (int round = 0; round < 200; round++)
        {
            int n = rng.Next(1, 30);
            var recs = new List<FlattenedSource.Record>();
            var paint = new Dictionary<long, long>(); // rearranged byte -> file offset of the byte
            long fileAt = 10_000;
            for (int i = 0; i < n; i++)
            {
                long off = rng.Next(0, 200), len = rng.Next(1, 60);
                recs.Add(new FlattenedSource.Record(off, len, fileAt));
                for (long b = 0; b < len; b++) paint[off + b] = fileAt + b;
                fileAt += len + 16;
            }
            var sorted = recs.OrderBy(r => r.Offset).ToArray();
            var result = FlattenedSource.LaterWins(sorted);
            var got = new Dictionary<long, long>();
            for (int i = 0; i < result.Length; i++)
            {
                if (i > 0) Assert.True(result[i].Offset >= result[i - 1].Offset + result[i - 1].Length);
                for (long b = 0; b < result[i].Length; b++) got[result[i].Offset + b] = result[i].FileOffset + b;
            }
            Assert.Equal(paint.OrderBy(k => k.Key), got.OrderBy(k => k.Key));
        }
    }
}
