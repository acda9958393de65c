using System.Collections.Concurrent;
using System.Text.Json;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;

namespace Kdump.Engine.Tests.FixtureAgreement;

/// <summary>
/// One generated fixture set (one kernel): its directory and manifest, crash's answers per capture ("run") and the
/// DWARF vmlinux. <see cref="Label"/> is the kernel release (e.g. 6.12.117+deb13-amd64).
/// </summary>
public sealed class FixtureSet
{
    public FixtureSet(string dir)
    {
        Dir = dir;
        using var m = TestEnvironment.LoadManifest(dir);
        Manifest = m.RootElement.Clone();
        Label = Manifest.TryGetProperty("release", out var r) && r.GetString() is { Length: > 0 } rel ? rel : Path.GetFileName(dir);
        if (Manifest.TryGetProperty("vmlinuxDebug", out var vd) && vd.ValueKind == JsonValueKind.String && File.Exists(vd.GetString()))
            VmlinuxDebug = vd.GetString();
    }

    public string Dir { get; }
    public string Label { get; }
    public JsonElement Manifest { get; }
    public string? VmlinuxDebug { get; }

    /// <summary>run → (directory of crash's answers, the dump crash ran on).</summary>
    public Dictionary<string, (string Dir, string Dump)> ReferenceOf { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Reference files the manifest marks as wrong (e.g. crash 9.0.2 with --no_modules on 7.x lists no modules):
    /// the tests compare those commands with the guest's truth instead. file → why.
    /// </summary>
    public Dictionary<string, string> CrashWrong { get; } = new(StringComparer.Ordinal);

    public override string ToString() => Label;
}

/// <summary>One dump of a fixture set's manifest: its files, format and which capture ("run") it was made from.</summary>
public sealed record FixtureDump(string Name, IReadOnlyList<string> Files, string Format, string Compression, int DumpLevel, string Run, string Producer, FixtureSet Set)
{
    /// <summary>
    /// Why the producer dropped pages the kernel still uses (manifest "dropsPages", e.g. makedumpfile 1.7.8 -d 31 on
    /// Linux 7.1+), or null. Such a dump cannot agree with crash; it must say what is missing instead.
    /// </summary>
    public string? DropsPages { get; init; }

    /// <summary>Unique over every set: kernel release / dump name.</summary>
    public string Id => Set.Label + "/" + Name;
    public override string ToString() => Id;
}

/// <summary>
/// The generated fixture dumps of every kernel set (KDUMP_FIXTURES_DIR, plus KDUMP_FIXTURES_EXTRA_DIRS), each dump
/// opened once for the whole collection, with crash's answers of each capture (crash/ for the pvpanic run, made on
/// its sample dump; crash-kexec/ for the kexec run, made on kexec-vmcore.elf) and the answers we computed, cached by
/// (dump, command) so that the per-command tests and the cross-format test compute each answer once.
/// </summary>
public sealed class FixtureDumps : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Vmcore>> _open = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), object> _answers = new();

    public FixtureDumps()
    {
        foreach (var dir in TestEnvironment.FixturesDirs)
        {
            var set = new FixtureSet(dir);
            Sets.Add(set);
            var root = set.Manifest;
            // KDUMP_FIXTURES_DUMPS=a,b restricts every set to those dumps (for investigating one kernel quickly)
            var only = (Environment.GetEnvironmentVariable("KDUMP_FIXTURES_DUMPS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var d in root.GetProperty("dumps").EnumerateArray())
            {
                if (only.Length > 0 && !only.Contains(d.GetProperty("name").GetString())) continue;
                Dumps.Add(new FixtureDump(d.GetProperty("name").GetString()!,
                    d.GetProperty("files").EnumerateArray().Select(f => Path.Combine(dir, f.GetString()!)).ToList(),
                    d.GetProperty("format").GetString()!, d.GetProperty("compression").GetString()!,
                    d.TryGetProperty("dumpLevel", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : 0,
                    d.GetProperty("run").GetString()!, d.TryGetProperty("producer", out var p) ? p.GetString() ?? "" : "", set)
                { DropsPages = d.TryGetProperty("dropsPages", out var dp) && dp.ValueKind == JsonValueKind.String ? dp.GetString() : null });
            }
            if (root.TryGetProperty("references", out var refs))
                foreach (var r in refs.EnumerateArray())
                {
                    string refDump = r.GetProperty("dump").GetString()!;
                    var owner = Dumps.FirstOrDefault(x => x.Set == set && x.Name == refDump);
                    if (owner is not null && Directory.Exists(Path.Combine(dir, r.GetProperty("dir").GetString()!)))
                        set.ReferenceOf[owner.Run] = (Path.Combine(dir, r.GetProperty("dir").GetString()!), refDump);
                    if (r.TryGetProperty("wrong", out var w) && w.ValueKind == JsonValueKind.Object)
                        foreach (var f in w.EnumerateObject()) set.CrashWrong[f.Name] = f.Value.GetString() ?? "";
                    if (r.GetProperty("dir").GetString() == "crash")
                        FindCrashWrong(set, Path.Combine(dir, "crash"), r.GetProperty("tool").GetString() ?? "");
                }
        }
    }

    /// <summary>
    /// Where crash is wrong on this kernel, said by crash's own output or known of its version: crash 9.0.2 (with
    /// --no_modules, the only way it starts on Debian's 7.2) cannot read module memory ("mod: cannot access vmalloc'd
    /// module memory"), fails on 7.x's swap_info_struct ("invalid structure member offset: swap_info_struct_swap_map")
    /// and so prints kmem -i without swap (and a commit limit without it), prints DATE 1970 (tk_core is gone in 6.17+),
    /// and does not know Linux 7.1's ORC register numbering (its traces fall back to scanning the stack where a frame is
    /// BP-based, like do_syscall_64's random stack offset, or where a scan finds a stale word). Those answers are
    /// compared with the guest's truth instead; traces are still compared with crash's, each difference proven from
    /// the stack memory (RealBacktraceTests.Compare, rule 4), and checked for completeness.
    /// </summary>
    private static void FindCrashWrong(FixtureSet set, string dir, string tool)
    {
        string Text(string f) => File.Exists(Path.Combine(dir, f)) ? File.ReadAllText(Path.Combine(dir, f)) : "";
        if (Text("mod.txt").Contains("cannot access", StringComparison.Ordinal)) set.CrashWrong["mod.txt"] = Text("mod.txt").Split('\n')[0].Trim();
        if (Text("swap.txt").Contains("invalid structure member", StringComparison.Ordinal)) set.CrashWrong["swap.txt"] = "crash: " + Text("swap.txt").Split('\n')[1].Trim();
        if (set.CrashWrong.ContainsKey("swap.txt") && !Text("kmem-i.txt").Contains("TOTAL SWAP", StringComparison.Ordinal))
            set.CrashWrong["kmem-i.txt"] = "crash's kmem -i has no swap lines and a commit limit without swap";
        if (Text("sys.txt").Contains("DATE: Thu Jan  1 00:00:00 UTC 1970", StringComparison.Ordinal)) set.CrashWrong["sys.txt#DATE"] = "crash prints DATE 1970";
        if (tool.StartsWith("crash 9.0.", StringComparison.Ordinal) && set.Label.StartsWith("7.", StringComparison.Ordinal))
            set.CrashWrong["foreach-bt.txt"] = "crash 9.0.2 does not decode Linux 7.1's renumbered ORC registers; its traces scan the stack";
    }

    /// <summary>The primary set's directory (KDUMP_FIXTURES_DIR), or null.</summary>
    public string? Dir => Sets.Count > 0 ? Sets[0].Dir : null;
    public List<FixtureSet> Sets { get; } = new();
    public List<FixtureDump> Dumps { get; } = new();

    /// <summary>The dumps whose run has crash's answers (every dump of a complete fixture set).</summary>
    public IEnumerable<FixtureDump> WithReference => Dumps.Where(d => d.Set.ReferenceOf.ContainsKey(d.Run));

    public (string Dir, string Dump) ReferenceOf(FixtureDump d) => d.Set.ReferenceOf[d.Run];

    public string CrashText(FixtureDump d, string file) => File.ReadAllText(Path.Combine(ReferenceOf(d).Dir, file));

    public bool HasCrashText(FixtureDump d, string file) => d.Set.ReferenceOf.TryGetValue(d.Run, out var r) && File.Exists(Path.Combine(r.Dir, file));

    /// <summary>Why crash's answer in <paramref name="file"/> is wrong for this dump's kernel (manifest), or null.</summary>
    public string? CrashWrong(FixtureDump d, string file) => d.Set.CrashWrong.TryGetValue(file, out var why) ? why : null;

    /// <summary>The guest's truth of a dump's run (manifest truth for pvpanic, runs.&lt;run&gt;.truth otherwise).</summary>
    public JsonElement Truth(FixtureDump d)
    {
        var m = d.Set.Manifest;
        if (m.TryGetProperty("runs", out var runs) && runs.TryGetProperty(d.Run, out var run) && run.TryGetProperty("truth", out var t) && t.ValueKind == JsonValueKind.Object)
            return t;
        return m.GetProperty("truth");
    }

    /// <summary>The dump, opened once (a split set as one dump); BTF from the dump, no vmlinux.</summary>
    public Vmcore Open(FixtureDump d) => _open.GetOrAdd(d.Id, _ => new Lazy<Vmcore>(() =>
    {
        var r = Assert.Single(DumpFile.OpenAll(d.Files));
        if (r.Error is not null) throw r.Error;
        return new Vmcore(r.Dump!);
    })).Value;

    public TaskTable Tasks(FixtureDump d) { var v = Open(d); return TaskTable.Get(v.Kernel, v); }

    /// <summary>Our answer to one command on one dump, computed once.</summary>
    public T Answer<T>(FixtureDump d, string command, Func<Vmcore, T> compute) where T : notnull
        => (T)_answers.GetOrAdd((d.Id, command), _ => compute(Open(d)));

    public void Dispose()
    {
        foreach (var l in _open.Values)
            if (l.IsValueCreated) l.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class FixtureDumpsCollection : ICollectionFixture<FixtureDumps>
{
    public const string Name = "Fixture dumps";
}
