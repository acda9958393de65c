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

    /// <summary>crash's `vtop -c 127 ADDR` on the sample.</summary>
    private static void AgreesWithCrashVtop(string file)
    {
        var text = File.ReadAllText(Path.Combine(TestEnvironment.SamplesDir, "crash", file));
        using var v = new Vmcore(DumpFile.Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump")));
        var diffs = CompareWithCrashVtop(v.Kernel, TaskTable.Get(v.Kernel, v), text, 127);
        Assert.True(diffs.Count == 0, string.Join(" | ", diffs));
    }

    /// <summary>
    /// crash's `vtop -c PID ADDR` answer against ours: each level's entry address and value, the PTE, the physical
    /// page or the swap device and offset, and the VMA. Returns the differences. Where crash cannot decode the swap
    /// entry (crash 8.0.6 on Linux 6.12: "vtop: cannot determine swap location", and it prints no VMA line after it)
    /// the swap type and offset are compared with the guest's own /proc/PID/pagemap (<paramref name="pagemap"/>).
    /// </summary>
    internal static List<string> CompareWithCrashVtop(KernelProgram k, TaskTable table, string text, int pid, JsonElement? pagemap = null)
    {
        var diffs = new List<string>();
        var head = Regex.Match(text, @"VIRTUAL\s+PHYSICAL\s*\n\s*([0-9a-f]+)\s+(\S+)");
        if (!head.Success) return new() { "no VIRTUAL/PHYSICAL header in crash's vtop" };
        ulong va = Hex(head.Groups[1].Value);
        var task = table.FindByPid(pid).SingleOrDefault();
        if (task is null) return new() { $"vtop {va:x}: no task {pid}" };
        var tr = k.Translator.Translate(va, AddressSpace.UserVirtual(UserRoot(k, table, pid)));
        string what = $"vtop -c {pid} {va:x}";

        var levels = LevelLine.Matches(text).Select(x => (x.Groups[1].Value, Hex(x.Groups[2].Value), Hex(x.Groups[3].Value))).ToList();
        var ours = tr.Levels.Select(l => (l.Name, l.EntryAddress, l.EntryValue)).ToList();
        if (levels.Count < 4) diffs.Add($"{what}: crash shows {levels.Count} levels");
        if (!levels.SequenceEqual(ours)) diffs.Add($"{what}: levels {string.Join(", ", levels)} vs {string.Join(", ", ours)}");

        if (head.Groups[2].Value != "(not")
        {
            var page = Regex.Match(text, @"PAGE:\s+([0-9a-f]+)");
            if (tr.Status != TranslationStatus.Mapped || tr.PhysicalAddress != Hex(head.Groups[2].Value) || !page.Success || Hex(page.Groups[1].Value) != tr.PhysicalAddress)
                diffs.Add($"{what}: crash {head.Groups[2].Value} (page {page.Groups[1].Value}) vs ours {tr.Status} {tr.PhysicalAddress:x}");
        }
        else if (text.Contains("cannot determine swap location", StringComparison.Ordinal))
        {
            var truth = pagemap?.EnumerateArray().Where(e => e.GetProperty("pid").GetInt32() == pid && Hex(e.GetProperty("address").GetString()!) == va).ToList();
            if (truth is not { Count: 1 } || !truth[0].GetProperty("swapped").GetBoolean()) diffs.Add($"{what}: crash cannot decode the swap entry and the guest's pagemap has no swap entry for it");
            else if (tr.Status != TranslationStatus.Swapped || (tr.SwapType, tr.SwapOffset) != ((uint)truth[0].GetProperty("swapType").GetInt32(), (ulong)truth[0].GetProperty("swapOffset").GetInt64()))
                diffs.Add($"{what}: ours {tr.Status} {tr.SwapType} {tr.SwapOffset} vs the guest's pagemap {truth[0]}");
            return diffs;
        }
        else
        {
            var swap = Regex.Match(text, @"SWAP:\s+(\S+)\s+OFFSET:\s+(\d+)");
            if (!swap.Success) diffs.Add($"{what}: no SWAP line in crash's answer");
            else if (tr.Status != TranslationStatus.Swapped || tr.SwapOffset != ulong.Parse(swap.Groups[2].Value, CultureInfo.InvariantCulture))
                diffs.Add($"{what}: crash swap {swap.Groups[1].Value} {swap.Groups[2].Value} vs ours {tr.Status} {tr.SwapType} {tr.SwapOffset}");
            else
            {
                var devices = new SwapReader(k).Enumerate(ex => throw ex).ToDictionary(s => s.Index, s => s.FileName);
                if (!devices.TryGetValue((int)tr.SwapType!.Value, out var dev) || dev != swap.Groups[1].Value) diffs.Add($"{what}: swap device {swap.Groups[1].Value} vs {dev}");
            }
        }

        // the VMA line: address, start, end, flags
        var vma = Regex.Match(text, @"VMA\s+START\s+END\s+FLAGS\s+FILE\s*\n\s*([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)");
        if (!vma.Success) { diffs.Add($"{what}: no VMA line in crash's answer"); return diffs; }
        var areas = Kdump.Engine.Linux.Mm.TaskVm.Read(k, task).Areas.Where(a => va >= a.Start && va < a.End).ToList();
        var want = (Hex(vma.Groups[1].Value), Hex(vma.Groups[2].Value), Hex(vma.Groups[3].Value), Hex(vma.Groups[4].Value));
        if (areas.Count != 1 || (areas[0].Vma.Value, areas[0].Start.Value, areas[0].End.Value, areas[0].Flags) != want)
            diffs.Add($"{what}: VMA {want} vs {string.Join(", ", areas.Select(a => (a.Vma.Value, a.Start.Value, a.End.Value, a.Flags)))}");
        return diffs;
    }

    /// <summary>
    /// Every dump format of each fixture capture of every kernel set gives the answers of that capture's own pagemap
    /// truth (the pvpanic run and, where the set has one, the kexec run).
    /// </summary>
    [FixtureFact]
    public void FixtureEveryFormatMatchesItsCapturesPagemap()
    {
        int dumps = 0;
        foreach (var dir in TestEnvironment.FixturesDirs)
        {
            using var m = TestEnvironment.LoadManifest(dir);
            var root = m.RootElement;
            var runsSeen = new HashSet<string>();
            foreach (var d in root.GetProperty("dumps").EnumerateArray())
            {
                string run = d.GetProperty("run").GetString()!, name = d.GetProperty("name").GetString()!;
                if (!d.GetProperty("files").EnumerateArray().All(f => File.Exists(Path.Combine(dir, f.GetString()!)))) continue;
                // a producer that dropped pages the kernel uses (manifest dropsPages: sid's makedumpfile -d 31) loses
                // tasks too; CrashAgreementTests checks that those dumps say what they miss
                if (d.TryGetProperty("dropsPages", out _)) continue;
                JsonElement truth = run == "pvpanic" ? root.GetProperty("truth")
                    : root.GetProperty("runs").GetProperty(run).GetProperty("truth");
                if (!truth.TryGetProperty("pagemap", out var pm) || pm.GetArrayLength() == 0) continue;
                using var v = OpenEntry(dir, d);
                int n = CheckPagemap(v, pm, Path.GetFileName(dir) + "/" + name);
                Assert.Equal(pm.GetArrayLength(), n);
                runsSeen.Add(run);
                dumps++;
            }
            Assert.Contains("pvpanic", runsSeen);
            if (root.GetProperty("runs").TryGetProperty("kexec", out _)) Assert.Contains("kexec", runsSeen);
        }
        Assert.True(dumps >= 2, $"only {dumps} fixture dumps checked");
    }
}
