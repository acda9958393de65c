using System.Text.Json;
using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

/// <summary>Real dumps: the committed sample and the generated fixtures, checked against their manifests.</summary>
public class RealDumpTests
{
    internal static string FormatName(DumpFormat f) => f switch
    {
        DumpFormat.Elf => "elf", DumpFormat.KdumpCompressed => "kdump", DumpFormat.Flattened => "flattened", DumpFormat.Split => "split", _ => f.ToString(),
    };

    private static DumpFile OpenEntry(string dir, JsonElement d)
    {
        var files = d.GetProperty("files").EnumerateArray().Select(f => Path.Combine(dir, f.GetString()!)).ToArray();
        var results = DumpFile.OpenAll(files);
        Assert.Single(results);
        if (results[0].Error is { } e) throw e;
        return results[0].Dump!;
    }

    private static void CheckAgainstManifest(string dir)
    {
        using var m = TestEnvironment.LoadManifest(dir);
        var root = m.RootElement;
        foreach (var d in root.GetProperty("dumps").EnumerateArray())
        {
            string name = d.GetProperty("name").GetString()!;
            using var dump = OpenEntry(dir, d);
            Assert.True(d.GetProperty("format").GetString() == FormatName(dump.Format), $"{name}: format {dump.Format}");
            Assert.True(d.GetProperty("compression").GetString() == dump.Compression.ToString().ToLowerInvariant(), $"{name}: compression {dump.Compression}");
            Assert.True(root.GetProperty("release").GetString() == dump.KernelRelease, $"{name}: release {dump.KernelRelease}");
            Assert.Equal(root.GetProperty("pageSize").GetInt32(), dump.PageSize);
            Assert.True(root.GetProperty("cpus").GetInt32() == dump.CpuCount, $"{name}: cpus {dump.CpuCount}");
            if (root.TryGetProperty("buildId", out var b) && b.ValueKind == JsonValueKind.String && dump.VmcoreInfo?.Origin.StartsWith("recovered") != true)
                Assert.Equal(b.GetString(), dump.BuildId);
            if (d.TryGetProperty("dumpLevel", out var lvl) && dump.DumpLevel is int dl && dump.Format != DumpFormat.Elf)
                Assert.True(lvl.GetInt32() == dl, $"{name}: dump level {dl}");
            Assert.False(dump.Incomplete, name);
            // Every dumped page decompresses.
            var pfns = dump.EnumerateDumpedPfns().ToArray();
            Assert.Equal(dump.DumpedPages, (ulong)pfns.Length);
            var st = new PageStatus[pfns.Length];
            var buf = new byte[pfns.Length * (long)dump.PageSize];
            dump.ReadPages(pfns, buf, st);
            Assert.True(st.All(s => s == PageStatus.Present), $"{name}: {st.Count(s => s != PageStatus.Present)} dumped pages unreadable");
        }
    }

    [SampleFact]
    public void SampleOpensAsItsManifestSays() => CheckAgainstManifest(TestEnvironment.SamplesDir);

    [FixtureFact]
    public void EveryFixtureOpensAsItsManifestSays() => CheckAgainstManifest(TestEnvironment.FixturesDir!);

    /// <summary>The same physical page read from every format of one capture is identical wherever both hold it.</summary>
    [FixtureFact]
    public void EveryFormatOfOneCaptureGivesTheSameBytes()
    {
        string dir = TestEnvironment.FixturesDir!;
        using var m = TestEnvironment.LoadManifest(dir);
        foreach (var run in m.RootElement.GetProperty("dumps").EnumerateArray().GroupBy(d => d.GetProperty("run").GetString()))
        {
            var entries = run.ToList();
            // The reference: an unfiltered ELF of the capture (QEMU paging=false or the /proc/vmcore copy).
            var refEntry = entries.FirstOrDefault(e => e.GetProperty("format").GetString() == "elf" && e.GetProperty("dumpLevel").GetInt32() == 0
                                                         && !e.GetProperty("name").GetString()!.Contains("paging", StringComparison.Ordinal) || e.GetProperty("name").GetString() == "kexec-vmcore");
            if (refEntry.ValueKind == JsonValueKind.Undefined) continue;
            using var reference = OpenEntry(dir, refEntry);
            var a = new byte[reference.PageSize];
            var bytes = new byte[reference.PageSize];
            foreach (var e in entries)
            {
                if (e.GetProperty("name").GetString() == refEntry.GetProperty("name").GetString()) continue;
                using var other = OpenEntry(dir, e);
                int compared = 0, excluded = 0;
                for (ulong pfn = 0; pfn < Math.Min(reference.MaxPfn, other.MaxPfn); pfn += 7)
                {
                    var sr = reference.ReadPage(pfn, a);
                    var so = other.ReadPage(pfn, bytes);
                    Assert.NotEqual(PageStatus.Corrupt, so);
                    Assert.NotEqual(PageStatus.Lost, so);
                    if (sr == PageStatus.Present && so == PageStatus.Present)
                    {
                        Assert.True(a.AsSpan().SequenceEqual(bytes), $"{e.GetProperty("name")}: pfn 0x{pfn:x} differs from {refEntry.GetProperty("name")}");
                        compared++;
                    }
                    else if (sr == PageStatus.Present && so == PageStatus.Excluded) excluded++;
                }
                Assert.True(compared > 100, $"{e.GetProperty("name")}: only {compared} pages compared");
            }
        }
    }

    /// <summary>
    /// Writes the real capture again as a snappy kdump-compressed file (no Debian producer writes snappy) and checks it
    /// reads the same pages. Set KDUMP_SNAPPY_OUT to keep the file (the fixture generator can publish it).
    /// </summary>
    [SampleFact]
    public void SnappyRewriteOfTheRealDumpReadsTheSame()
    {
        var dir = TestEnvironment.FixturesDir ?? TestEnvironment.SamplesDir;
        using var m = TestEnvironment.LoadManifest(dir);
        var entry = m.RootElement.GetProperty("dumps").EnumerateArray().First(d => d.GetProperty("format").GetString() == "kdump");
        using var src = OpenEntry(dir, entry);
        var outPath = Environment.GetEnvironmentVariable("KDUMP_SNAPPY_OUT") is { Length: > 0 } o ? o : SyntheticMemory.TempPath("snappy.kdump");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        KdumpRewriter.Rewrite(src, outPath, DumpCompression.Snappy);
        try
        {
            using var snappy = DumpFile.Open(outPath);
            Assert.Equal(DumpCompression.Snappy, snappy.Compression);
            Assert.Equal(src.KernelRelease, snappy.KernelRelease);
            Assert.Equal(src.DumpedPages, snappy.DumpedPages);
            Assert.Equal(src.CpuCount, snappy.CpuCount);
            Assert.Equal(src.BuildId, snappy.BuildId);
            var a = new byte[src.PageSize];
            var b = new byte[src.PageSize];
            foreach (var pfn in src.EnumerateDumpedPfns().Where((_, i) => i % 5 == 0))
            {
                Assert.Equal(PageStatus.Present, snappy.ReadPage(pfn, b));
                src.ReadPage(pfn, a);
                Assert.True(a.AsSpan().SequenceEqual(b), $"pfn 0x{pfn:x}");
            }
        }
        finally { if (Environment.GetEnvironmentVariable("KDUMP_SNAPPY_OUT") is not { Length: > 0 }) File.Delete(outPath); }
    }
}
