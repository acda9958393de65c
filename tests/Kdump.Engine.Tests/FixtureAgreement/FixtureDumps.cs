using System.Collections.Concurrent;
using System.Text.Json;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;

namespace Kdump.Engine.Tests.FixtureAgreement;

/// <summary>One dump of the fixtures manifest: its files, format and which capture ("run") it was made from.</summary>
public sealed record FixtureDump(string Name, IReadOnlyList<string> Files, string Format, string Compression, int DumpLevel, string Run, string Producer)
{
    public override string ToString() => Name;
}

/// <summary>
/// The generated fixture dumps (KDUMP_FIXTURES_DIR), each opened once for the whole collection, with crash 8.0.6's
/// answers of each capture (crash/ for the pvpanic run, made on its mdf-zlib dump; crash-kexec/ for the kexec run,
/// made on kexec-vmcore.elf) and the answers we computed, cached by (dump, command) so that the per-command tests
/// and the cross-format test compute each answer once.
/// </summary>
public sealed class FixtureDumps : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Vmcore>> _open = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), object> _answers = new();

    public FixtureDumps()
    {
        Dir = TestEnvironment.FixturesDir;
        if (Dir is null) return;
        using var m = TestEnvironment.LoadManifest(Dir);
        var root = m.RootElement;
        Manifest = root.Clone();
        foreach (var d in root.GetProperty("dumps").EnumerateArray())
        {
            Dumps.Add(new FixtureDump(d.GetProperty("name").GetString()!,
                d.GetProperty("files").EnumerateArray().Select(f => Path.Combine(Dir, f.GetString()!)).ToList(),
                d.GetProperty("format").GetString()!, d.GetProperty("compression").GetString()!,
                d.TryGetProperty("dumpLevel", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : 0,
                d.GetProperty("run").GetString()!, d.TryGetProperty("producer", out var p) ? p.GetString() ?? "" : ""));
        }
        if (root.TryGetProperty("references", out var refs))
            foreach (var r in refs.EnumerateArray())
            {
                string refDump = r.GetProperty("dump").GetString()!;
                var owner = Dumps.FirstOrDefault(x => x.Name == refDump);
                if (owner is not null && Directory.Exists(Path.Combine(Dir, r.GetProperty("dir").GetString()!)))
                    ReferenceOf[owner.Run] = (Path.Combine(Dir, r.GetProperty("dir").GetString()!), refDump);
            }
        if (root.TryGetProperty("vmlinuxDebug", out var vd) && vd.ValueKind == JsonValueKind.String && File.Exists(vd.GetString()))
            VmlinuxDebug = vd.GetString();
    }

    public string? Dir { get; }
    public JsonElement Manifest { get; }
    public List<FixtureDump> Dumps { get; } = new();
    public string? VmlinuxDebug { get; }

    /// <summary>run → (directory of crash's answers, the dump crash ran on).</summary>
    public Dictionary<string, (string Dir, string Dump)> ReferenceOf { get; } = new(StringComparer.Ordinal);

    /// <summary>The dumps whose run has crash's answers (every dump of a complete fixture set).</summary>
    public IEnumerable<FixtureDump> WithReference => Dumps.Where(d => ReferenceOf.ContainsKey(d.Run));

    public string CrashText(FixtureDump d, string file) => File.ReadAllText(Path.Combine(ReferenceOf[d.Run].Dir, file));

    public bool HasCrashText(FixtureDump d, string file) => ReferenceOf.TryGetValue(d.Run, out var r) && File.Exists(Path.Combine(r.Dir, file));

    /// <summary>The guest's truth of a dump's run (manifest truth for pvpanic, runs.&lt;run&gt;.truth otherwise).</summary>
    public JsonElement Truth(FixtureDump d)
    {
        if (Manifest.TryGetProperty("runs", out var runs) && runs.TryGetProperty(d.Run, out var run) && run.TryGetProperty("truth", out var t) && t.ValueKind == JsonValueKind.Object)
            return t;
        return Manifest.GetProperty("truth");
    }

    /// <summary>The dump, opened once (a split set as one dump); BTF from the dump, no vmlinux.</summary>
    public Vmcore Open(FixtureDump d) => _open.GetOrAdd(d.Name, _ => new Lazy<Vmcore>(() =>
    {
        var r = Assert.Single(DumpFile.OpenAll(d.Files));
        if (r.Error is not null) throw r.Error;
        return new Vmcore(r.Dump!);
    })).Value;

    public TaskTable Tasks(FixtureDump d) { var v = Open(d); return TaskTable.Get(v.Kernel, v); }

    /// <summary>Our answer to one command on one dump, computed once.</summary>
    public T Answer<T>(FixtureDump d, string command, Func<Vmcore, T> compute) where T : notnull
        => (T)_answers.GetOrAdd((d.Name, command), _ => compute(Open(d)));

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
