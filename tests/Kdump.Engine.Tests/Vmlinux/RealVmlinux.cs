using System.Text.Json;

namespace Kdump.Engine.Tests.Vmlinux;

/// <summary>
/// Where a real debuginfo vmlinux is: KDUMP_VMLINUX_DEBUG, the fixtures manifest's vmlinuxDebug, or the fixture
/// generator's cache for the sample's kernel (dbg-&lt;version&gt;/usr/lib/debug/boot/vmlinux-&lt;release&gt;).
/// </summary>
public static class RealVmlinux
{
    public static string? Path { get; } = Find();

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("KDUMP_VMLINUX_DEBUG") is { Length: > 0 } e) return File.Exists(e) ? e : null;
        if (TestEnvironment.FixturesDir is { } fx && Manifest(fx) is { } m && Str(m, "vmlinuxDebug") is { } p && File.Exists(p)) return p;
        if (TestEnvironment.HaveSample && Manifest(TestEnvironment.SamplesDir) is { } s && Str(s, "kernelPackageVersion") is { } ver && Str(s, "release") is { } rel)
        {
            var root = Environment.GetEnvironmentVariable("KDUMP_FIXTURES") is { Length: > 0 } r ? r
                : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "kdump-fixtures");
            foreach (var c in new[] { $"cache/dbg-{ver}/usr/lib/debug/boot/vmlinux-{rel}", $"cache/dbg-{ver}/usr/lib/debug/vmlinux-{rel}" })
            {
                var full = System.IO.Path.Combine(root, c);
                if (File.Exists(full)) return full;
            }
        }
        return null;
    }

    public static JsonElement? Manifest(string dir)
    {
        try { return TestEnvironment.LoadManifest(dir).RootElement.Clone(); }
        catch (Exception ex) when (ex is IOException or JsonException) { return null; }
    }

    public static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>A fact that needs a real debuginfo vmlinux (see <see cref="RealVmlinux"/>); skipped without one.</summary>
public sealed class VmlinuxFactAttribute : FactAttribute
{
    public VmlinuxFactAttribute() { if (RealVmlinux.Path is null) Skip = "no debuginfo vmlinux (set KDUMP_VMLINUX_DEBUG or generate fixtures with KDUMP_FIXTURES_DBG=1)"; }
}
