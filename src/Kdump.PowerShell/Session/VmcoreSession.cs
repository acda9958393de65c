using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using Kdump.Engine.Model;

namespace Kdump.PowerShell.Session;

/// <summary>The dumps open in one runspace and the current one. Kept per runspace so parallel runspaces never share state.</summary>
public sealed class VmcoreSession
{
    private static readonly ConditionalWeakTable<Runspace, VmcoreSession> s_sessions = new();
    private static readonly VmcoreSession s_noRunspace = new();
    private readonly List<Vmcore> _open = new();
    private readonly object _lock = new();

    /// <summary>The session of the runspace running the caller.</summary>
    public static VmcoreSession Current => Runspace.DefaultRunspace is { } rs ? s_sessions.GetValue(rs, _ => new VmcoreSession()) : s_noRunspace;

    public Vmcore? CurrentVmcore { get; private set; }

    public IReadOnlyList<Vmcore> Open { get { lock (_lock) { _open.RemoveAll(v => !v.IsOpen); return _open.ToArray(); } } }

    public void Add(Vmcore vmcore)
    {
        lock (_lock)
        {
            if (!_open.Contains(vmcore)) _open.Add(vmcore);
            CurrentVmcore = vmcore;
        }
    }

    public void MakeCurrent(Vmcore vmcore) { lock (_lock) CurrentVmcore = vmcore; }

    /// <summary>Closes a dump and forgets it; the most recently opened remaining dump becomes current.</summary>
    public void Close(Vmcore vmcore)
    {
        lock (_lock)
        {
            _open.Remove(vmcore);
            vmcore.Dispose();
            _open.RemoveAll(v => !v.IsOpen);
            if (ReferenceEquals(CurrentVmcore, vmcore) || CurrentVmcore is { IsOpen: false })
                CurrentVmcore = _open.Count > 0 ? _open[^1] : null;
        }
    }

    /// <summary>An open dump with exactly these files, if any.</summary>
    public Vmcore? FindByPaths(IReadOnlyList<string> paths)
    {
        lock (_lock)
            return _open.FirstOrDefault(v => v.IsOpen && v.Paths.Count == paths.Count && v.Paths.OrderBy(p => p, StringComparer.Ordinal).SequenceEqual(paths.OrderBy(p => p, StringComparer.Ordinal), StringComparer.Ordinal));
    }
}
