BeforeDiscovery {
    # -Skip conditions are evaluated while Pester discovers the tests, before BeforeAll runs.
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if ($HaveSample) { $script:V = Open-Vmcore (Join-Path $SamplesDir 'vmcore.kdump'); $script:Truth = @((Get-TestManifest $SamplesDir).truth.swaps) }
}
AfterAll { if ($V) { $V | Close-Vmcore } }

Describe 'Get-CrashSwap' -Skip:(-not $HaveSample) {
    It 'agrees with the guest''s /proc/swaps' {
        $s = @(Get-CrashSwap)
        $s.Count | Should -Be $Truth.Count
        $s[0].FileName | Should -Be $Truth[0].filename
        $s[0].Size | Should -Be $Truth[0].size
        $s[0].Used | Should -Be $Truth[0].used
        $s[0].Priority | Should -Be $Truth[0].priority
        $s[0].Type | Should -Be 'PARTITION'
    }
    It 'prints crash''s swap line' {
        $crash = (Get-Content (Join-Path $SamplesDir 'crash/swap.txt'))[1] -split '\s+'
        $text = Get-CrashSwap | Out-String
        $text | Should -Match ([regex]::Escape($crash[0]) + '\s+' + $crash[1] + '\s+' + $crash[2] + '\s+' + $crash[3] + '\s+' + $crash[4] + '\s+' + $crash[5] + '\s+' + [regex]::Escape($crash[6]))
    }
}
