using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Swap;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Tests.Translation;

/// <summary>
/// User-address translation (vtop through a task's mm->pgd) on the real dumps, against the guest's pagemap ground
/// truth and crash 8.0.6's vtop answers — the path Convert-CrashAddress -Pid takes.
/// </summary>
public class RealDumpVtopTests
{
    internal static ulong Hex(string s) => ulong.Parse(s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>Opens a manifest dump entry (split dumps as one) as a Vmcore.</summary>
    internal static Vmcore OpenEntry(string dir, JsonElement entry)
    {
        var files = entry.GetProperty("files").EnumerateArray().Select(f => Path.Combine(dir, f.GetString()!)).ToArray();
        var results = DumpFile.OpenAll(files);
        var dump = results.Select(r => r.Dump).FirstOrDefault(d => d is not null) ?? throw results[0].Error!;
        foreach (var r in results) if (r.Dump is { } other && !ReferenceEquals(other, dump)) other.Dispose();
        return new Vmcore(dump);
    }

    /// <summary>The physical page-table root of a pid's user address space, found as Convert-CrashAddress -Pid does.</summary>
    internal static ulong UserRoot(KernelProgram k, TaskTable table, int pid)
    {
        var task = Assert.Single(table.FindByPid(pid));
        Assert.NotEqual(0UL, task.Mm.Value);
        ulong pgd = k.Object(task.Mm, "struct mm_struct")["pgd"].ReadPointer();
        return k.Translator.ToPhysical(pgd, AddressSpace.KernelVirtual);
    }

    /// <summary>Every pagemap truth entry translates to the same pfn, or the same swap type and offset. Returns the count checked.</summary>
    internal static int CheckPagemap(Vmcore v, JsonElement pagemap, string what)
    {
        var k = v.Kernel;
        var table = TaskTable.Get(k, v);
        var roots = new Dictionary<int, ulong>();
        int n = 0;
        foreach (var e in pagemap.EnumerateArray())
        {
            int pid = e.GetProperty("pid").GetInt32();
            if (!roots.TryGetValue(pid, out var root)) roots[pid] = root = UserRoot(k, table, pid);
            ulong va = Hex(e.GetProperty("address").GetString()!);
            var tr = k.Translator.Translate(va, AddressSpace.UserVirtual(root));
            string at = $"{what}: pid {pid} 0x{va:x}";
            if (e.GetProperty("present").GetBoolean())
            {
                Assert.True(TranslationStatus.Mapped == tr.Status, $"{at}: {tr.Status}");
                Assert.True((ulong)e.GetProperty("pfn").GetInt64() == tr.PhysicalAddress!.Value >> 12, $"{at}: pfn 0x{tr.PhysicalAddress >> 12:x}, truth {e.GetProperty("pfn")}");
            }
            else if (e.GetProperty("swapped").GetBoolean())
            {
                Assert.True(TranslationStatus.Swapped == tr.Status, $"{at}: {tr.Status}");
                Assert.Equal(((uint)e.GetProperty("swapType").GetInt32(), (ulong)e.GetProperty("swapOffset").GetInt64()), (tr.SwapType!.Value, tr.SwapOffset!.Value));
            }
            else Assert.True(tr.Status is TranslationStatus.NotMapped or TranslationStatus.ProtNone, $"{at}: {tr.Status}");
            n++;
        }
        return n;
    }

    [SampleFact]
    public void SamplePagemapTruthThroughTaskTable()
    {
        using var m = TestEnvironment.LoadManifest(TestEnvironment.SamplesDir);
        var pm = m.RootElement.GetProperty("truth").GetProperty("pagemap");
        using var v = new Vmcore(DumpFile.Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump")));
        int n = CheckPagemap(v, pm, "sample");
        Assert.Equal(pm.GetArrayLength(), n);
        Assert.True(n >= 10, $"only {n} pagemap entries");
        // both kinds are exercised
        Assert.Contains(pm.EnumerateArray(), e => e.GetProperty("present").GetBoolean());
        Assert.Contains(pm.EnumerateArray(), e => e.GetProperty("swapped").GetBoolean());
    }

    [SampleFact]
    public void SampleAgreesWithCrashVtopPresent() => AgreesWithCrashVtop("vtop-present.txt");

    [SampleFact]
    public void SampleAgreesWithCrashVtopSwapped() => AgreesWithCrashVtop("vtop-swapped.txt");

    private static readonly Regex LevelLine = new(@"^\s*(PGD|P4D|PUD|PMD|PTE):\s+([0-9a-f]+)\s+=>\s+([0-9a-f]+)\s*$", RegexOptions.Multiline);

    /// <summary>crash's `vtop -c 127 ADDR`: each level's entry address and value, the PTE, the physical page or the swap device and offset, and the VMA.</summary>
    private static void AgreesWithCrashVtop(string file)
    {
        var text = File.ReadAllText(Path.Combine(TestEnvironment.SamplesDir, "crash", file));
        var head = Regex.Match(text, @"VIRTUAL\s+PHYSICAL\s*\n\s*([0-9a-f]+)\s+(\S+)");
        Assert.True(head.Success, $"{file}: no VIRTUAL/PHYSICAL header");
        ulong va = Hex(head.Groups[1].Value);
        using var v = new Vmcore(DumpFile.Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump")));
        var k = v.Kernel;
        var table = TaskTable.Get(k, v);
        var task = Assert.Single(table.FindByPid(127));
        var tr = k.Translator.Translate(va, AddressSpace.UserVirtual(UserRoot(k, table, 127)));

        var levels = LevelLine.Matches(text).Select(x => (x.Groups[1].Value, Hex(x.Groups[2].Value), Hex(x.Groups[3].Value))).ToList();
        Assert.True(levels.Count >= 4, $"{file}: {levels.Count} levels");
        Assert.Equal(levels, tr.Levels.Select(l => (l.Name, l.EntryAddress, l.EntryValue)).ToList());

        if (head.Groups[2].Value != "(not")
        {
            Assert.Equal(TranslationStatus.Mapped, tr.Status);
            Assert.Equal(Hex(head.Groups[2].Value), tr.PhysicalAddress);
            var page = Regex.Match(text, @"PAGE:\s+([0-9a-f]+)");
            Assert.Equal(Hex(page.Groups[1].Value), tr.PhysicalAddress);
        }
        else
        {
            Assert.Equal(TranslationStatus.Swapped, tr.Status);
            var swap = Regex.Match(text, @"SWAP:\s+(\S+)\s+OFFSET:\s+(\d+)");
            Assert.True(swap.Success, $"{file}: no SWAP line");
            Assert.Equal(ulong.Parse(swap.Groups[2].Value, CultureInfo.InvariantCulture), tr.SwapOffset);
            var devices = new SwapReader(k).Enumerate(ex => throw ex).ToDictionary(s => s.Index, s => s.FileName);
            Assert.Equal(swap.Groups[1].Value, devices[(int)tr.SwapType!.Value]);
        }

        // the VMA line: address, start, end, flags
        var vma = Regex.Match(text, @"VMA\s+START\s+END\s+FLAGS\s+FILE\s*\n\s*([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)");
        Assert.True(vma.Success, $"{file}: no VMA line");
        var area = Assert.Single(Kdump.Engine.Linux.Mm.TaskVm.Read(k, task).Areas, a => va >= a.Start && va < a.End);
        Assert.Equal((Hex(vma.Groups[1].Value), Hex(vma.Groups[2].Value), Hex(vma.Groups[3].Value), Hex(vma.Groups[4].Value)), (area.Vma.Value, area.Start.Value, area.End.Value, area.Flags));
    }

    /// <summary>Every dump format of each fixture capture gives the answers of that capture's own pagemap truth.</summary>
    [FixtureFact]
    public void FixtureEveryFormatMatchesItsCapturesPagemap()
    {
        var dir = TestEnvironment.FixturesDir!;
        using var m = TestEnvironment.LoadManifest(dir);
        var root = m.RootElement;
        int dumps = 0;
        var runsSeen = new HashSet<string>();
        foreach (var d in root.GetProperty("dumps").EnumerateArray())
        {
            string run = d.GetProperty("run").GetString()!, name = d.GetProperty("name").GetString()!;
            if (!d.GetProperty("files").EnumerateArray().All(f => File.Exists(Path.Combine(dir, f.GetString()!)))) continue;
            JsonElement truth = run == "pvpanic" ? root.GetProperty("truth")
                : root.GetProperty("runs").GetProperty(run).GetProperty("truth");
            if (!truth.TryGetProperty("pagemap", out var pm) || pm.GetArrayLength() == 0) continue;
            using var v = OpenEntry(dir, d);
            int n = CheckPagemap(v, pm, name);
            Assert.Equal(pm.GetArrayLength(), n);
            runsSeen.Add(run);
            dumps++;
        }
        Assert.True(dumps >= 2, $"only {dumps} fixture dumps checked");
        Assert.Contains("pvpanic", runsSeen);
    }
}
